/**
 * What an STS or IAM failure means for the caller, after the SDK's own retries:
 * throttling, AWS faults and unreachable endpoints are 503 (retry later); AWS refusing
 * Coffer's credentials or the request is a 400 naming AWS's error, as Vault answers; an
 * error of unknown kind stays internal.
 */
import { type AwsSdkError, awsFailureKind } from "../../aws-errors.ts";
import { CofferError } from "../../errors.ts";

export function awsFailure(what: string, error: unknown): CofferError {
  if (error instanceof CofferError) return error;
  const sdk = (error ?? {}) as AwsSdkError;
  const name = sdk.name ?? "Error";
  const message = (sdk.message ?? "").slice(0, 300);
  const options = { cause: error };
  const kind = awsFailureKind(error);
  if (kind === "throttling") {
    return new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `AWS throttled the request to ${what}; retry later`,
      [],
      options,
    );
  }
  if (kind === "unreachable") {
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
  if (kind === "server") {
    return new CofferError("ERR_UPSTREAM_UNAVAILABLE", `AWS failed to ${what}: ${name}`, [], options);
  }
  if (kind === "client") {
    return new CofferError("ERR_INVALID_REQUEST", `AWS refused to ${what}: ${name}: ${message}`, [], options);
  }
  return new CofferError("ERR_INTERNAL", `failed to ${what}: ${name}: ${message}`, [], options);
}
