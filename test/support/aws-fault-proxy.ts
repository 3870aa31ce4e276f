/**
 * A proxy in front of moto for the AWS JSON protocols (DynamoDB, KMS): every request goes
 * through to moto unless the test's `fault` answers it instead, in the service's own error
 * shape, so the product's real SDK clients see a throttled, failing or disabled service
 * exactly as they would see AWS's, retries included, while the data lives in moto.
 */
import { createServer, request as httpRequest } from "node:http";
import { listenOnLoopback } from "./loopback.ts";

export interface AwsJsonRequest {
  /** From X-Amz-Target: "DynamoDB" or "KMS". */
  service: "DynamoDB" | "KMS" | "other";
  /** The operation, e.g. "Decrypt", "GetItem". */
  operation: string;
}

export interface AwsJsonFault {
  status: number;
  /** The error's name, as `__type` carries it. */
  type: string;
  message: string;
}

export interface AwsFaultProxy {
  endpoint: string;
  /** What answers instead of moto; undefined lets the request through. Change it at will. */
  fault: (request: AwsJsonRequest) => AwsJsonFault | undefined;
  /** Requests answered with a fault. */
  faulted: AwsJsonRequest[];
  close(): Promise<void>;
}

const SERVICES: Record<string, AwsJsonRequest["service"]> = {
  DynamoDB_20120810: "DynamoDB",
  TrentService: "KMS",
};

export async function startAwsFaultProxy(upstream: string): Promise<AwsFaultProxy> {
  const target = new URL(upstream);
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const [prefix = "", operation = ""] = String(incoming.headers["x-amz-target"] ?? "").split(".");
      const request: AwsJsonRequest = { service: SERVICES[prefix] ?? "other", operation };
      const fault = proxy.fault(request);
      if (fault) {
        proxy.faulted.push(request);
        // DynamoDB names its errors with their namespace; KMS with the bare name.
        const type =
          request.service === "DynamoDB" ? `com.amazonaws.dynamodb.v20120810#${fault.type}` : fault.type;
        outgoing.writeHead(fault.status, { "content-type": "application/x-amz-json-1.1" });
        outgoing.end(JSON.stringify({ __type: type, message: fault.message }));
        return;
      }
      const forwarded = httpRequest(
        {
          hostname: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on("error", () => outgoing.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  const proxy: AwsFaultProxy = {
    endpoint: "",
    fault: () => undefined,
    faulted: [],
    close: async () => {},
  };
  Object.assign(proxy, await listenOnLoopback(server, "AWS fault proxy"));
  return proxy;
}
