import { describe, expect, it } from "vitest";
import { CofferError } from "../../../shared/errors.ts";
import { describeError, RETRY_BASE_MS, RETRY_CAP_MS, retryDelay } from "../../../shared/leases/revocation.ts";

describe("revocation retries", () => {
  it("doubles the wait after each failure, up to the cap", () => {
    expect([1, 2, 3, 4].map(retryDelay)).toEqual([1, 2, 4, 8].map((n) => n * RETRY_BASE_MS));
    expect(retryDelay(50)).toBe(RETRY_CAP_MS);
    expect(retryDelay(10_000)).toBe(RETRY_CAP_MS);
  });

  it("describes failures without stacks, and bounded", () => {
    expect(describeError(new CofferError("ERR_UPSTREAM_UNAVAILABLE", "IAM down"))).toBe("IAM down");
    expect(describeError(new TypeError("bad"))).toBe("TypeError: bad");
    expect(describeError(new Error("x".repeat(2000))).length).toBeLessThanOrEqual(503 + "Error: ".length);
  });
});
