/**
 * Lambda events as each ingress delivers one HTTP request, in the shapes of AWS's own
 * samples: a function URL (payload format 2.0), an Application Load Balancer (its own
 * shape; with multi-value headers on the target group, headers and query parameters come
 * as lists), and an API Gateway REST API through a {proxy+} resource (payload format 1.0).
 *
 * What differs between them is what the handler must get right: where the path is
 * (`rawPath` or `path`), where the method is (`requestContext.http.method` or
 * `httpMethod`), and how the query string arrives. A function URL gives it raw; an ALB
 * splits it into parameters but leaves them percent-encoded as received; API Gateway
 * decodes them.
 */

export interface ClientRequest {
  method: string;
  /** The path as the client sent it, percent-encoding and dot segments included. */
  path: string;
  /** The query string as the client sent it, without the "?". */
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body base64-encoded, as a function URL does for content it does not take for text. */
  base64?: boolean;
}

export type Ingress = "function-url" | "alb" | "alb-multi-value" | "rest-api";

// biome-ignore lint/suspicious/noExplicitAny: events are JSON documents of several shapes.
export type LambdaEvent = Record<string, any>;

const SOURCE_IP = "10.20.30.40";
const USER_AGENT = "Go-http-client/1.1";
const TARGET_GROUP_ARN =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/coffer-api/73e2d6bc24d8a067";
const URL_ID = "abcdefghijklmnopqrstuvwxyz012345";

/** The query string's parameters as sent: [key, value] pairs, still percent-encoded. */
function rawPairs(query: string | undefined): [string, string][] {
  if (!query) return [];
  return query.split("&").map((pair) => {
    const at = pair.indexOf("=");
    return at < 0 ? [pair, ""] : [pair.slice(0, at), pair.slice(at + 1)];
  });
}

const decode = (text: string) => decodeURIComponent(text.replaceAll("+", " "));

function single(pairs: [string, string][]): Record<string, string> {
  return Object.fromEntries(pairs);
}

function multi(pairs: [string, string][]): Record<string, string[]> {
  const all: Record<string, string[]> = {};
  for (const [key, value] of pairs) all[key] = [...(all[key] ?? []), value];
  return all;
}

function body(request: ClientRequest) {
  if (request.body === undefined) return { body: undefined, isBase64Encoded: false };
  return request.base64
    ? { body: Buffer.from(request.body).toString("base64"), isBase64Encoded: true }
    : { body: request.body, isBase64Encoded: false };
}

function functionUrlEvent(request: ClientRequest): LambdaEvent {
  const domainName = `${URL_ID}.lambda-url.us-east-1.on.aws`;
  const decoded = rawPairs(request.query).map(([k, v]): [string, string] => [decode(k), decode(v)]);
  const parameters: Record<string, string> = {};
  // Repeated parameters arrive comma-joined, as in HTTP APIs.
  for (const [key, value] of decoded)
    parameters[key] = key in parameters ? `${parameters[key]},${value}` : value;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: request.path,
    rawQueryString: request.query ?? "",
    headers: {
      "x-amzn-tls-version": "TLSv1.3",
      "x-forwarded-proto": "https",
      "x-forwarded-port": "443",
      "x-forwarded-for": SOURCE_IP,
      host: domainName,
      "user-agent": USER_AGENT,
      ...request.headers,
    },
    ...(decoded.length > 0 && { queryStringParameters: parameters }),
    requestContext: {
      accountId: "anonymous",
      apiId: URL_ID,
      domainName,
      domainPrefix: URL_ID,
      http: {
        method: request.method,
        path: request.path,
        protocol: "HTTP/1.1",
        sourceIp: SOURCE_IP,
        userAgent: USER_AGENT,
      },
      requestId: "3f5fb1a8-1f7d-4d0e-9b7e-7c3b1a9d2e11",
      routeKey: "$default",
      stage: "$default",
      time: "05/Aug/2025:08:14:39 +0000",
      timeEpoch: 1754381679885,
    },
    ...body(request),
  };
}

function albEvent(request: ClientRequest, multiValue: boolean): LambdaEvent {
  const headers = {
    host: "coffer.internal.example.com",
    "user-agent": USER_AGENT,
    "x-amzn-trace-id": "Root=1-5c536348-3d683b8b04734faae651f476",
    "x-forwarded-for": SOURCE_IP,
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...request.headers,
  };
  const pairs = rawPairs(request.query);
  return {
    requestContext: { elb: { targetGroupArn: TARGET_GROUP_ARN } },
    httpMethod: request.method,
    path: request.path,
    ...(multiValue
      ? {
          multiValueQueryStringParameters: multi(pairs),
          multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        }
      : { queryStringParameters: single(pairs), headers }),
    ...body(request),
    body: body(request).body ?? "",
  };
}

function restApiEvent(request: ClientRequest): LambdaEvent {
  const domainName = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
  const headers = {
    Host: domainName,
    "User-Agent": USER_AGENT,
    "X-Forwarded-For": SOURCE_IP,
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
    ...request.headers,
  };
  const decoded = rawPairs(request.query).map(([k, v]): [string, string] => [decode(k), decode(v)]);
  const proxy = request.path.replace(/^\//, "");
  return {
    resource: "/{proxy+}",
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: decoded.length > 0 ? single(decoded) : null,
    multiValueQueryStringParameters: decoded.length > 0 ? multi(decoded) : null,
    pathParameters: { proxy },
    stageVariables: null,
    requestContext: {
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      domainName,
      domainPrefix: "a1b2c3d4e5",
      extendedRequestId: "BBq2dGbmoAMEbkQ=",
      httpMethod: request.method,
      identity: { sourceIp: SOURCE_IP, userAgent: USER_AGENT, accountId: null, caller: null, user: null },
      path: `/prod${request.path}`,
      protocol: "HTTP/1.1",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      requestTime: "05/Aug/2025:08:14:39 +0000",
      requestTimeEpoch: 1754381679885,
      resourceId: "1a2b3c",
      resourcePath: "/{proxy+}",
      stage: "prod",
    },
    ...body(request),
  };
}

export function ingressEvent(ingress: Ingress, request: ClientRequest): LambdaEvent {
  switch (ingress) {
    case "function-url":
      return functionUrlEvent(request);
    case "alb":
      return albEvent(request, false);
    case "alb-multi-value":
      return albEvent(request, true);
    case "rest-api":
      return restApiEvent(request);
  }
}

/** What the handler answered, whichever shape it answered in. */
export interface IngressResult {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: replies are arbitrary JSON, walked by assertions.
  body: any;
  shape: "headers" | "multiValueHeaders";
}

export function readResult(result: LambdaEvent): IngressResult {
  const multiValue = result.multiValueHeaders !== undefined;
  const headers: Record<string, string> = multiValue
    ? Object.fromEntries(
        Object.entries(result.multiValueHeaders as Record<string, string[]>).map(([k, v]) => [
          k,
          v.join(","),
        ]),
      )
    : result.headers;
  const text = result.isBase64Encoded ? Buffer.from(result.body, "base64").toString("utf8") : result.body;
  return {
    status: result.statusCode,
    headers,
    body: text === "" ? undefined : JSON.parse(text),
    shape: multiValue ? "multiValueHeaders" : "headers",
  };
}
