/**
 * The injector as a Lambda function behind its own function URL: the API server calls it
 * for every pod created, and it answers from the pod alone. It reads no table and no key,
 * and its role can do nothing but write its log (stacks/injector.ts).
 *
 * No web framework: the function URL's event carries the method and the body, and a
 * cold start loads only the injector's own code (docs/benchmarks.md).
 */
import { answerAdmission } from "../shared/injector/admission-http.ts";
import { readInjectorOptions } from "../shared/injector/injector-options.ts";

/** What a function URL sends (payload format 2.0), as far as the injector reads it. */
export interface FunctionUrlEvent {
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string } };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

// Read once per execution environment; a bad setting fails the cold start with every problem named.
const options = readInjectorOptions(process.env);

export async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
  const raw = event.body ?? "";
  const body = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  const answer = answerAdmission(event.requestContext?.http?.method ?? "", body, options);
  return {
    statusCode: answer.status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: answer.body,
  };
}
