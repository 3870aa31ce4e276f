import { describe, expect, it } from "vitest";
import { awsErrorCode, awsFailureKind } from "../../shared/aws-errors.ts";

/** An error shaped as the AWS SDK v3 throws them. */
const sdkError = (name: string, status?: number, fault?: "client" | "server") =>
  Object.assign(new Error(`${name} happened`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
    ...(fault ? { $fault: fault } : {}),
  });

describe("the kind of an AWS failure", () => {
  it.each([
    [sdkError("ThrottlingException", 400, "client"), "throttling"],
    [sdkError("ProvisionedThroughputExceededException", 400, "client"), "throttling"],
    [sdkError("Throttling", 400, "client"), "throttling"],
    [sdkError("TooManyRequestsException", 429, "client"), "throttling"],
    [sdkError("TimeoutError"), "unreachable"],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "unreachable"],
    [Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), "unreachable"],
    [sdkError("InternalFailure", 500, "server"), "server"],
    [sdkError("ServiceUnavailable", 503), "server"],
    [sdkError("KMSInternalException", undefined, "server"), "server"],
    [sdkError("AccessDenied", 403, "client"), "client"],
    [sdkError("ValidationException", 400), "client"],
    [new Error("plain"), "unknown"],
    ["a string", "unknown"],
    [undefined, "unknown"],
  ])("classifies %s as %s", (error, kind) => {
    expect(awsFailureKind(error)).toBe(kind);
  });

  it("names AWS's error code only for errors that came from AWS", () => {
    expect(awsErrorCode(sdkError("NoSuchEntity", 404, "client"))).toBe("NoSuchEntity");
    expect(awsErrorCode(new Error("local"))).toBeUndefined();
  });
});
