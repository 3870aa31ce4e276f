/**
 * What kind of failure an AWS SDK error is, in one place for every AWS client Coffer calls
 * (DynamoDB, KMS, STS, IAM). Each caller decides what the kind means for its own answer;
 * the kinds are the SDK's own classification, read from the error's shape so the core
 * needs no import of the SDK:
 *
 * - throttling: AWS shed load (any service's throttling codes);
 * - unreachable: no answer came back (timeouts, refused or reset connections, DNS);
 * - server: AWS answered with a fault of its own (5xx);
 * - client: AWS refused the request as made (4xx);
 * - unknown: not an error from AWS at all.
 */

export type AwsFailureKind = "throttling" | "unreachable" | "server" | "client" | "unknown";

/** The fields of an SDK error that classification reads. */
export interface AwsSdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
  "ProvisionedThroughputExceededException",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

/** The AWS error code, when the error came from AWS. */
export function awsErrorCode(error: unknown): string | undefined {
  const sdk = error as AwsSdkError | undefined;
  return sdk?.$metadata ? sdk.name : undefined;
}

export function awsFailureKind(error: unknown): AwsFailureKind {
  if (typeof error !== "object" || error === null) return "unknown";
  const sdk = error as AwsSdkError;
  const name = sdk.name ?? "";
  if (THROTTLING.has(name)) return "throttling";
  if (name === "TimeoutError" || (sdk.code !== undefined && NETWORK_CODES.has(sdk.code)))
    return "unreachable";
  const status = sdk.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || sdk.$fault === "server") return "server";
  if (status >= 400 || sdk.$fault === "client") return "client";
  return "unknown";
}
