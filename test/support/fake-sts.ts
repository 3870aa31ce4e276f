/**
 * A stand-in for STS's HTTP endpoint (and IAM's: both speak AWS's Query protocol) on a
 * free loopback port, answering each request however the test says: throttling, access
 * denied, 5xx. The engine's real SDK clients talk to it, so failures arrive in AWS's own
 * wire format and pass through the SDK's retries. moto cannot be made to fail on demand.
 * It can also relay every request to moto (`relayTo`), recording what the engine sent
 * that moto keeps no trace of, such as session tags.
 */
import { createServer } from "node:http";
import { listenOnLoopback } from "./loopback.ts";

export interface QueryRequest {
  /** The Action parameter: "AssumeRole", "PutRolePolicy", ... */
  action: string;
  params: URLSearchParams;
  /** The signed headers, for a relay to pass on. */
  headers: Record<string, string>;
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

/** Passes each request on to a real endpoint (moto) and answers with its response. */
export function relayTo(endpoint: string) {
  return async (request: QueryRequest): Promise<QueryResponse> => {
    const { host: _, "content-length": __, ...headers } = request.headers;
    const response = await fetch(endpoint, { method: "POST", headers, body: request.params.toString() });
    return { status: response.status, body: await response.text() };
  };
}

export async function startFakeSts(
  respond: (request: QueryRequest, index: number) => QueryResponse | Promise<QueryResponse>,
): Promise<FakeSts> {
  const requests: QueryRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", async () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      const request = { action: params.get("Action") ?? "", params, headers };
      requests.push(request);
      const { status, body } = await respond(request, requests.length - 1);
      outgoing.writeHead(status, { "content-type": "text/xml" });
      outgoing.end(body);
    });
  });
  return { ...(await listenOnLoopback(server, "fake STS")), requests };
}
