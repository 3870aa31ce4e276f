/**
 * A fault-injecting HTTP proxy in front of moto, on a free loopback port. The product's
 * real SDK clients point at it instead of at moto; it forwards every request unchanged
 * unless a rule the test injected says otherwise:
 *
 * - an error answer in the service's own wire format (DynamoDB's and KMS's JSON, the
 *   Query protocol's XML for STS and IAM), without forwarding;
 * - a connection reset before forwarding (the service never saw the request), or after
 *   moto has applied it (the caller cannot know that it was, and its SDK retries);
 * - a delay before forwarding or before answering, fixed or until the test releases it.
 *
 * moto cannot be made to fail on demand, and stubbing our own modules would test nothing
 * of how the SDK and the product react to a network that fails: hence this.
 */
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import { dynamoError } from "./fake-dynamodb.ts";
import { queryError } from "./fake-sts.ts";
import { listenOnLoopback } from "./loopback.ts";

export type AwsService = "dynamodb" | "kms" | "sts" | "iam" | "other";

export interface ProxiedRequest {
  service: AwsService;
  /** "PutItem", "Decrypt", "AssumeRole", "PutRolePolicy", ... */
  operation: string;
  /** The request body as sent, for matching on what a write carries. */
  body: string;
  /** The SDK's id of the call, the same on each of its attempts (amz-sdk-invocation-id). */
  invocation: string;
  /** Which attempt of the call this is, from 1 (amz-sdk-request). */
  attempt: number;
}

export type Fault =
  /** Answers with this AWS error in the service's wire format; the request goes nowhere. */
  | { kind: "error"; status: number; code: string; message?: string }
  /** Resets the connection without forwarding: the service never saw the request. */
  | { kind: "reset-before" }
  /** Forwards, lets moto answer, then resets the connection: applied, but the caller never hears so. */
  | { kind: "reset-after" }
  /** Holds the request before forwarding it ("before") or moto's answer before passing it on ("after"). */
  | { kind: "delay"; phase: "before" | "after"; ms?: number; until?: Promise<unknown> };

export interface FaultRule {
  /** Which requests the rule applies to; every request when absent. */
  match?: (request: ProxiedRequest) => boolean;
  /** The fault, or a function choosing it per request (undefined: this rule passes). */
  fault: Fault | ((request: ProxiedRequest) => Fault | undefined);
  /** How many requests it applies to; unlimited when absent. */
  times?: number;
}

export interface ProxyRecord extends ProxiedRequest {
  fault?: Fault["kind"];
  /** The status the caller got; undefined when its connection was reset. */
  status?: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Every request seen, in order of arrival. */
  requests: ProxyRecord[];
  /** Adds a rule after the existing ones; the first rule that matches a request decides. */
  inject(rule: FaultRule): { applied: () => number };
  /** Removes every rule: everything passes through again. */
  clear(): void;
  close(): Promise<void>;
}

const SERVICES: readonly AwsService[] = ["dynamodb", "kms", "sts", "iam"];

/** The service from the credential scope of the SigV4 signature: ".../<region>/<service>/aws4_request". */
function serviceOf(headers: IncomingMessage["headers"]): AwsService {
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(
    String(headers.authorization ?? ""),
  );
  const service = scope?.[1] as AwsService | undefined;
  return service && SERVICES.includes(service) ? service : "other";
}

function operationOf(headers: IncomingMessage["headers"], body: string): string {
  const target = headers["x-amz-target"];
  if (typeof target === "string") return target.split(".").pop() ?? "";
  return new URLSearchParams(body).get("Action") ?? "";
}

/** An error answer as the service itself sends it. */
export function awsErrorAnswer(
  service: AwsService,
  fault: Extract<Fault, { kind: "error" }>,
): { status: number; contentType: string; body: string } {
  const message = fault.message ?? `injected ${fault.code}`;
  if (service === "dynamodb") {
    const { body } = dynamoError(fault.code, message, {}, fault.status);
    return { status: fault.status, contentType: "application/x-amz-json-1.0", body: JSON.stringify(body) };
  }
  if (service === "kms") {
    return {
      status: fault.status,
      contentType: "application/x-amz-json-1.1",
      body: JSON.stringify({ __type: fault.code, message }),
    };
  }
  const { body } = queryError(fault.status, fault.code, message);
  const namespace = service === "iam" ? "https://iam.amazonaws.com/doc/2010-05-08/" : undefined;
  return {
    status: fault.status,
    contentType: "text/xml",
    body: namespace ? body.replace(/xmlns="[^"]*"/, `xmlns="${namespace}"`) : body,
  };
}

const readBody = (stream: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });

async function hold(fault: Extract<Fault, { kind: "delay" }>): Promise<void> {
  if (fault.ms !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.ms));
  if (fault.until) await fault.until;
}

/** Starts a proxy that forwards to `target` (moto's endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const rules: { rule: FaultRule; applied: number }[] = [];
  const requests: ProxyRecord[] = [];

  function faultFor(request: ProxiedRequest): Fault | undefined {
    for (const entry of rules) {
      const { rule } = entry;
      if (rule.times !== undefined && entry.applied >= rule.times) continue;
      if (rule.match && !rule.match(request)) continue;
      const fault = typeof rule.fault === "function" ? rule.fault(request) : rule.fault;
      if (!fault) continue;
      entry.applied++;
      return fault;
    }
    return undefined;
  }

  const relay = (incoming: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const outgoing = forward(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          readBody(answer)
            .then((data) =>
              resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }),
            )
            .catch(reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const text = body.toString("utf8");
    const request: ProxiedRequest = {
      service: serviceOf(incoming.headers),
      operation: operationOf(incoming.headers, text),
      body: text,
      invocation: String(incoming.headers["amz-sdk-invocation-id"] ?? ""),
      attempt: Number(/attempt=(\d+)/.exec(String(incoming.headers["amz-sdk-request"] ?? ""))?.[1] ?? 1),
    };
    const fault = faultFor(request);
    const record: ProxyRecord = { ...request, fault: fault?.kind };
    requests.push(record);
    const reset = () => incoming.socket.resetAndDestroy();

    if (fault?.kind === "error") {
      const answer = awsErrorAnswer(request.service, fault);
      record.status = answer.status;
      outgoing.writeHead(answer.status, { "content-type": answer.contentType });
      outgoing.end(answer.body);
      return;
    }
    if (fault?.kind === "reset-before") return void reset();
    if (fault?.kind === "delay" && fault.phase === "before") await hold(fault);
    const answer = await relay(incoming, body);
    if (fault?.kind === "reset-after") return void reset();
    if (fault?.kind === "delay" && fault.phase === "after") await hold(fault);
    record.status = answer.status;
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    headers["content-length"] = String(answer.body.length);
    outgoing.writeHead(answer.status, headers);
    outgoing.end(answer.body);
  }

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch(() => {
      // moto unreachable or the caller gone: the caller sees its connection fail.
      incoming.socket.destroy();
    });
  });
  const listening = await listenOnLoopback(server, "fault proxy");
  return {
    ...listening,
    requests,
    inject(rule) {
      const entry = { rule, applied: 0 };
      rules.push(entry);
      return { applied: () => entry.applied };
    },
    clear() {
      rules.length = 0;
    },
  };
}

/** Matches writes that set a revocation claim on a lease (a put of the lease item with a claim). */
export const setsClaim = (request: ProxiedRequest) =>
  request.service === "dynamodb" &&
  (request.operation === "PutItem" || request.operation === "TransactWriteItems") &&
  request.body.includes('"claim":{"M":');
