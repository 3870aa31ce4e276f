/**
 * A stand-in for STS's HTTP endpoint (and IAM's: both speak AWS's Query protocol) on a
 * free loopback port, answering each request however the test says: throttling, access
 * denied, 5xx. The engine's real SDK clients talk to it, so failures arrive in AWS's own
 * wire format and pass through the SDK's retries. moto cannot be made to fail on demand.
 */
import { createServer } from "node:http";
import { listenOnLoopback } from "./loopback.ts";

export interface QueryRequest {
  /** The Action parameter: "AssumeRole", "PutRolePolicy", ... */
  action: string;
  params: URLSearchParams;
}

export interface QueryResponse {
  status: number;
  body: string;
}

export interface FakeSts {
  endpoint: string;
  requests: QueryRequest[];
  close(): Promise<void>;
}

/** An error in the Query protocol's XML shape. */
export function queryError(status: number, code: string, message: string): QueryResponse {
  const type = status >= 500 ? "Receiver" : "Sender";
  return {
    status,
    body:
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type>` +
      `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`,
  };
}

export async function startFakeSts(
  respond: (request: QueryRequest, index: number) => QueryResponse,
): Promise<FakeSts> {
  const requests: QueryRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const request = { action: params.get("Action") ?? "", params };
      requests.push(request);
      const { status, body } = respond(request, requests.length - 1);
      outgoing.writeHead(status, { "content-type": "text/xml" });
      outgoing.end(body);
    });
  });
  return { ...(await listenOnLoopback(server, "fake STS")), requests };
}
