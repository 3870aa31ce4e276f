/**
 * COFFER_VPC_SUBNETS and COFFER_VPC_SECURITY_GROUPS: read, trimmed and checked with the
 * rest of the stage settings, every mistake reported at once.
 */
import { describe, expect, it } from "vitest";
import { readStageSettings } from "../../stacks/stage-settings.ts";
import { problemsOf } from "./settings-problems.ts";

const SUBNETS = "subnet-0a1b2c3d4e5f60718, subnet-1234abcd";
const GROUPS = "sg-0123456789abcdef0";

describe("VPC settings", () => {
  it("attach no VPC unless asked", () => {
    expect(readStageSettings("dev", {})).not.toHaveProperty("vpc");
  });

  it("read subnets and security groups, trimmed and without duplicates", () => {
    expect(
      readStageSettings("dev", {
        COFFER_VPC_SUBNETS: `${SUBNETS},subnet-1234abcd,`,
        COFFER_VPC_SECURITY_GROUPS: ` ${GROUPS} `,
      }).vpc,
    ).toEqual({ subnets: ["subnet-0a1b2c3d4e5f60718", "subnet-1234abcd"], securityGroups: [GROUPS] });
  });

  it("go together", () => {
    const message = "COFFER_VPC_SUBNETS and COFFER_VPC_SECURITY_GROUPS go together: set both or neither";
    expect(problemsOf({ COFFER_VPC_SUBNETS: SUBNETS })).toEqual([message]);
    expect(problemsOf({ COFFER_VPC_SECURITY_GROUPS: GROUPS })).toEqual([message]);
  });

  it("refuse what is not a subnet or security group id, and more than Lambda takes", () => {
    expect(
      problemsOf({
        COFFER_VPC_SUBNETS: "vpc-12345678,subnet-XYZ",
        COFFER_VPC_SECURITY_GROUPS: "sg-1, default",
      }),
    ).toEqual([
      'COFFER_VPC_SUBNETS: "vpc-12345678" is not a subnet id (subnet-...)',
      'COFFER_VPC_SUBNETS: "subnet-XYZ" is not a subnet id (subnet-...)',
      'COFFER_VPC_SECURITY_GROUPS: "sg-1" is not a security group id (sg-...)',
      'COFFER_VPC_SECURITY_GROUPS: "default" is not a security group id (sg-...)',
    ]);
    const six = Array.from({ length: 6 }, (_, i) => `sg-0000000${i}`).join(",");
    expect(problemsOf({ COFFER_VPC_SUBNETS: SUBNETS, COFFER_VPC_SECURITY_GROUPS: six })).toEqual([
      "COFFER_VPC_SECURITY_GROUPS: give 1 to 5 security groups",
    ]);
  });
});
