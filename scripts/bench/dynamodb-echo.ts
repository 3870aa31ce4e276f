/**
 * A DynamoDB endpoint that does no work, in its own process, for measuring what the
 * client side of a call costs: it answers every operation at once over keep-alive
 * connections (as DynamoDB does; moto closes each connection, which would bill the client
 * for a TCP handshake per call), with items the size of a lease. Forked by run.ts; sends
 * `{ endpoint }` once listening and exits on "stop".
 */
import { createServer } from "node:http";

const ITEM = {
  pk: { S: "bench-cpu/0" },
  sk: { S: "lease/0" },
  payload: { B: Buffer.alloc(400, 7).toString("base64") },
  state: { S: "active" },
  revision: { N: "1" },
  expires_at: { N: String(Date.now()) },
};

function answer(operation: string, request: { TableName?: string; RequestItems?: Record<string, unknown> }) {
  if (operation === "GetItem") return { Item: ITEM };
  if (operation === "Query") return { Items: [ITEM, ITEM], Count: 2, ScannedCount: 2 };
  if (operation === "BatchGetItem") {
    const table = Object.keys(request.RequestItems ?? {})[0] ?? "";
    return { Responses: { [table]: [ITEM] }, UnprocessedKeys: {} };
  }
  return {};
}

const server = createServer((incoming, outgoing) => {
  const chunks: Buffer[] = [];
  incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
  incoming.on("end", () => {
    const operation =
      String(incoming.headers["x-amz-target"] ?? "")
        .split(".")
        .pop() ?? "";
    const text = Buffer.concat(chunks).toString("utf8");
    const body = JSON.stringify(answer(operation, text ? JSON.parse(text) : {}));
    outgoing.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench" });
    outgoing.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.send?.({ endpoint: `http://127.0.0.1:${port}` });
});
process.on("message", (message) => {
  if (message === "stop") server.close(() => process.exit(0));
});
