/**
 * How every AWS client Coffer builds retries a failed call (DynamoDB, KMS, STS, IAM): the
 * reasons are in docs/architecture.md ("AWS retries").
 *
 * - up to 3 attempts per call, for the errors the SDK classifies as throttling or
 *   transient (5xx, timeouts, connection resets); client errors are never retried;
 * - before each retry, a random wait ("full jitter") up to 100 ms doubled per retry, 500 ms
 *   doubled after throttling, capped at 2 s: at most 0.3 s of waiting per call for a
 *   transient fault and 1.5 s for throttling, inside the API function's 10 s;
 * - no client-side retry budget: the SDK's standard and adaptive modes share a token bucket
 *   per client that faults drain and only later successes refill, so after a burst of
 *   faults calls made long after it ended get no retry at all. A Lambda instance serves one
 *   request at a time; each call's retries are bounded by the attempts, and a request's
 *   by its own deadline.
 *
 * The SDK's RetryStrategyV2 interface, declared here by its shape so the core needs no
 * import of the SDK's internals.
 */

export const AWS_MAX_ATTEMPTS = 3;
export const AWS_RETRY_BASE_MS = 100;
export const AWS_THROTTLING_RETRY_BASE_MS = 500;
export const AWS_RETRY_DELAY_CAP_MS = 2_000;

export interface AwsRetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

export interface AwsRetryErrorInfo {
  /** The SDK's classification of the error. */
  errorType: "THROTTLING" | "TRANSIENT" | "SERVER_ERROR" | "CLIENT_ERROR";
}

export interface AwsRetryStrategy {
  acquireInitialRetryToken(scope: string): Promise<AwsRetryToken>;
  refreshRetryTokenForRetry(token: AwsRetryToken, error: AwsRetryErrorInfo): Promise<AwsRetryToken>;
  recordSuccess(token: AwsRetryToken): void;
}

const token = (retries: number, delayMs: number): AwsRetryToken => ({
  getRetryCount: () => retries,
  getRetryDelay: () => delayMs,
});

/** The wait before retry number `retry` (1 for the first retry): full jitter, capped. */
export function awsRetryDelay(retry: number, throttled: boolean, random = Math.random): number {
  const base = throttled ? AWS_THROTTLING_RETRY_BASE_MS : AWS_RETRY_BASE_MS;
  return Math.floor(random() * Math.min(AWS_RETRY_DELAY_CAP_MS, base * 2 ** (retry - 1)));
}

/** The retry strategy of one client; `maxAttempts` counts the first attempt. */
export function awsRetryStrategy(maxAttempts = AWS_MAX_ATTEMPTS): AwsRetryStrategy {
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    async refreshRetryTokenForRetry(previous, error) {
      const retries = previous.getRetryCount() + 1;
      const retryable = error.errorType === "THROTTLING" || error.errorType === "TRANSIENT";
      // The SDK then throws the error of the last attempt.
      if (!retryable || retries >= maxAttempts) throw new Error("no retry");
      return token(retries, awsRetryDelay(retries, error.errorType === "THROTTLING"));
    },
    recordSuccess() {},
  };
}

/** What a client's configuration needs for the policy above. */
export const awsRetryConfig = (maxAttempts = AWS_MAX_ATTEMPTS) => ({
  maxAttempts,
  retryStrategy: awsRetryStrategy(maxAttempts),
});
