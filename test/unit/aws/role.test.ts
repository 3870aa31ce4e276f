import { describe, expect, it } from "vitest";
import { awsFailure } from "../../../shared/engines/aws/aws-errors.ts";
import { roleNameOf } from "../../../shared/engines/aws/deny-list.ts";
import { CREDS_FIELDS } from "../../../shared/engines/aws/path-creds.ts";
import {
  type AwsRole,
  mergeRole,
  ROLE_FIELDS,
  requestedStsTtl,
  stsDuration,
} from "../../../shared/engines/aws/role.ts";
import type { JsonObject } from "../../../shared/engines/engine.ts";
import { fieldsOf } from "../../support/fields.ts";

const ARN = "arn:aws:iam::123456789012:role/app";

/** A role write's body onto `existing`, as the route parses it. */
const merge = (existing: AwsRole | undefined, body: JsonObject) =>
  mergeRole(existing, fieldsOf(ROLE_FIELDS, body));
/** A creds request's `ttl`, as the route parses it. */
const requestedTtl = (body: JsonObject) => requestedStsTtl(fieldsOf(CREDS_FIELDS, body).ttl);

describe("aws roles", () => {
  const role: AwsRole = merge(undefined, { role_arns: ARN }).role;

  it("clamps durations to STS's 900..3600 s after the role's and the mount's caps", () => {
    expect(stsDuration(role, undefined, 0)).toBe(3600);
    expect(stsDuration(role, 60, 0)).toBe(900);
    expect(stsDuration(role, 7200, 0)).toBe(3600);
    expect(stsDuration(role, 3000, 1800)).toBe(1800);
    expect(stsDuration({ ...role, defaultStsTtl: 1200 }, undefined, 0)).toBe(1200);
    expect(stsDuration({ ...role, maxStsTtl: 1000 }, 3000, 1800)).toBe(1000);
    // 0 is "not given": the role's default, not STS's minimum.
    expect(stsDuration(role, 0, 0)).toBe(3600);
    expect(stsDuration({ ...role, defaultStsTtl: 1200 }, 0, 0)).toBe(1200);
  });

  it("reads a creds ttl: absent or 0 for the default, refused below 900 s", () => {
    expect(requestedTtl({})).toBeUndefined();
    expect(requestedTtl({ ttl: 0 })).toBeUndefined();
    expect(requestedTtl({ ttl: "0s" })).toBeUndefined();
    expect(requestedTtl({ ttl: "15m" })).toBe(900);
    expect(requestedTtl({ ttl: 7200 })).toBe(7200);
    for (const ttl of [1, "300", "14m59s"]) {
      expect(() => requestedTtl({ ttl }), String(ttl)).toThrow(
        /^invalid value for "ttl": \d+s is below 900s \(15m\), the shortest AWS STS allows; omit it or give 0/,
      );
    }
    expect(() => requestedTtl({ ttl: "soon" })).toThrow(/invalid value for "ttl"/);
  });

  it("merges a write into the existing role", () => {
    const merged = merge(role, {
      default_sts_ttl: "20m",
      policy_arns: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    }).role;
    expect(merged).toMatchObject({
      roleArns: [ARN],
      defaultStsTtl: 1200,
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
    });
  });

  it("takes the role name from its ARN, paths included", () => {
    expect(roleNameOf(ARN)).toBe("app");
    expect(roleNameOf("arn:aws:iam::123456789012:role/teams/payments/app-runner")).toBe("app-runner");
    expect(() => roleNameOf("arn:aws:iam::123456789012:user/bob")).toThrow(/not an IAM role ARN/);
  });

  it("maps AWS errors to 503 for throttling and faults, 400 for refusals", () => {
    const sdkError = (name: string, status: number, fault: string) =>
      Object.assign(new Error("message"), { name, $fault: fault, $metadata: { httpStatusCode: status } });
    expect(awsFailure("x", sdkError("Throttling", 400, "client")).code).toBe("ERR_UPSTREAM_UNAVAILABLE");
    expect(awsFailure("x", sdkError("ServiceUnavailable", 503, "server")).code).toBe(
      "ERR_UPSTREAM_UNAVAILABLE",
    );
    expect(awsFailure("x", sdkError("AccessDenied", 403, "client")).code).toBe("ERR_INVALID_REQUEST");
    expect(awsFailure("x", new Error("Region is missing")).code).toBe("ERR_INVALID_REQUEST");
    expect(
      awsFailure("x", Object.assign(new Error("none"), { name: "CredentialsProviderError" })).message,
    ).toMatch(/no AWS credentials/);
  });
});
