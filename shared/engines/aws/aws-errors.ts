/**
 * What an STS or IAM failure means for the caller, after the SDK's own retries:
 * throttling, AWS faults and unreachable endpoints are 503 (retry later); AWS refusing
 * Coffer's credentials or the request is a 400 naming AWS's error, as Vault answers; an
 * error of unknown kind stays internal.
 */
import { CofferError } from "../../errors.ts";

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The AWS error code, when the error came from AWS. */
export function awsErrorCode(error: unknown): string | undefined {
  const sdk = error as SdkError | undefined;
  return sdk?.$metadata ? sdk.name : undefined;
}

export function awsFailure(what: string, error: unknown): CofferError {
  if (error instanceof CofferError) return error;
  const sdk = (error ?? {}) as SdkError;
  const name = sdk.name ?? "Error";
  const status = sdk.$metadata?.httpStatusCode ?? 0;
  const message = (sdk.message ?? "").slice(0, 300);
  const options = { cause: error };
  if (THROTTLING.has(name)) {
    return new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `AWS throttled the request to ${what}; retry later`,
      [],
      options,
    );
  }
  if (name === "TimeoutError" || (sdk.code !== undefined && NETWORK_CODES.has(sdk.code))) {
    return new CofferError("ERR_UPSTREAM_UNAVAILABLE", `AWS could not be reached to ${what}`, [], options);
  }
  if (/region is missing/i.test(message)) {
    return new CofferError(
      "ERR_INVALID_REQUEST",
      `cannot ${what}: no AWS region is configured; set "region" in config/root`,
      [],
      options,
    );
  }
  if (name === "CredentialsProviderError") {
    return new CofferError(
      "ERR_INTERNAL",
      `cannot ${what}: no AWS credentials; set access_key and secret_key in config/root or give the function a role`,
      [],
      options,
    );
  }
  if (status >= 500 || sdk.$fault === "server") {
    return new CofferError("ERR_UPSTREAM_UNAVAILABLE", `AWS failed to ${what}: ${name}`, [], options);
  }
  if (status >= 400 || sdk.$fault === "client") {
    return new CofferError("ERR_INVALID_REQUEST", `AWS refused to ${what}: ${name}: ${message}`, [], options);
  }
  return new CofferError("ERR_INTERNAL", `failed to ${what}: ${name}: ${message}`, [], options);
}
