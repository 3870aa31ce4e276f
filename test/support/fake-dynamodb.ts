/**
 * A stand-in for DynamoDB's HTTP endpoint, on a free loopback port, that answers each
 * request however the test says: throttling, 500s, cancelled transactions. Tests point a
 * real DynamoDBClient at it, so failures arrive in DynamoDB's own wire format and pass
 * through the SDK's own retries before the adapter sees them. Moto cannot be made to fail
 * on demand, hence this.
 */
import { createServer } from "node:http";
import { listenOnLoopback } from "./loopback.ts";

export interface FakeRequest {
  /** The operation from X-Amz-Target, e.g. "PutItem". */
  operation: string;
  body: Record<string, unknown>;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
}

export interface FakeDynamoDb {
  endpoint: string;
  /** Every request received, in order. */
  requests: FakeRequest[];
  close(): Promise<void>;
}

export async function startFakeDynamoDb(
  respond: (request: FakeRequest, index: number) => FakeResponse,
): Promise<FakeDynamoDb> {
  const requests: FakeRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const target = String(incoming.headers["x-amz-target"] ?? "");
      const text = Buffer.concat(chunks).toString("utf8");
      const request = { operation: target.split(".").pop() ?? "", body: text ? JSON.parse(text) : {} };
      requests.push(request);
      const { status, body } = respond(request, requests.length - 1);
      outgoing.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      outgoing.end(body === undefined ? "" : JSON.stringify(body));
    });
  });
  return { ...(await listenOnLoopback(server, "fake DynamoDB")), requests };
}

/** An error answer as DynamoDB sends it: the type in `__type`, HTTP 400 unless said otherwise. */
export function dynamoError(
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
  status = 400,
): FakeResponse {
  return { status, body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra } };
}
