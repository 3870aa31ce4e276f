/**
 * COFFER_SECONDARY_REGION: a real region name, not the stage's own, and refused together
 * with every choice that cannot span two regions, each with its reason.
 */
import { describe, expect, it } from "vitest";
import { readStageSettings } from "../../stacks/stage-settings.ts";
import { problemsOf } from "./settings-problems.ts";

const HOME = { AWS_REGION: "us-east-1" };

describe("the secondary region setting", () => {
  it("is absent by default and read when set", () => {
    expect(readStageSettings("dev", HOME).secondaryRegion).toBeUndefined();
    expect(readStageSettings("dev", { ...HOME, COFFER_SECONDARY_REGION: "eu-west-1" }).secondaryRegion).toBe(
      "eu-west-1",
    );
    expect(
      readStageSettings("dev", { AWS_REGION: "us-gov-west-1", COFFER_SECONDARY_REGION: "us-gov-east-1" })
        .secondaryRegion,
    ).toBe("us-gov-east-1");
  });

  it("refuses what is not a region name", () => {
    for (const name of ["Europe", "eu-west", "eu_west_1", "eu-west-1a", "arn:aws:eu-west-1"]) {
      expect(problemsOf({ ...HOME, COFFER_SECONDARY_REGION: name })).toEqual([
        `COFFER_SECONDARY_REGION: "${name}" is not an AWS region name (such as eu-west-1)`,
      ]);
    }
  });

  it("refuses the stage's own region, whichever variable names it", () => {
    expect(problemsOf({ ...HOME, COFFER_SECONDARY_REGION: "us-east-1" })).toEqual([
      'COFFER_SECONDARY_REGION: "us-east-1" is the stage\'s own region; name a different one',
    ]);
    expect(problemsOf({ AWS_DEFAULT_REGION: "eu-west-1", COFFER_SECONDARY_REGION: "eu-west-1" })).toEqual([
      expect.stringMatching(/is the stage's own region/),
    ]);
  });

  it("refuses another partition and a region without function URLs", () => {
    expect(problemsOf({ ...HOME, COFFER_SECONDARY_REGION: "cn-north-1" })).toEqual([
      expect.stringMatching(/^COFFER_SECONDARY_REGION: "cn-north-1" is in another AWS partition/),
    ]);
    expect(problemsOf({ ...HOME, COFFER_SECONDARY_REGION: "eu-central-2" })).toEqual([
      expect.stringMatching(/^COFFER_SECONDARY_REGION: Lambda has no function URLs in "eu-central-2"/),
    ]);
  });

  it("refuses a load balancer ingress, a VPC and an existing key, naming each", () => {
    const problems = problemsOf({
      ...HOME,
      COFFER_SECONDARY_REGION: "eu-west-1",
      COFFER_INGRESS: "private-alb",
      COFFER_INGRESS_SUBNETS: "subnet-0a1b2c3d4e5f60718,subnet-0f1e2d3c4b5a69788",
      COFFER_INGRESS_ALLOWED_CIDRS: "10.20.0.0/16",
      COFFER_DOMAIN: "coffer.internal.example.com",
      COFFER_HOSTED_ZONE_ID: "Z0123456789ABCDEFGHIJ",
      COFFER_VPC_SUBNETS: "subnet-0a1b2c3d4e5f60718",
      COFFER_VPC_SECURITY_GROUPS: "sg-0a1b2c3d4e5f60718",
      COFFER_KMS_KEY_ARN: "arn:aws:kms:us-east-1:123456789012:key/0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d",
    });
    expect(problems).toEqual([
      "COFFER_SECONDARY_REGION: a private-alb ingress has subnets and a certificate in one region and cannot span two; a second region needs COFFER_INGRESS=function-url",
      "COFFER_SECONDARY_REGION: COFFER_VPC_SUBNETS are subnets of one region; functions in a second region cannot use them",
      "COFFER_SECONDARY_REGION: a second region needs the multi-Region key Coffer creates, with its replica there; COFFER_KMS_KEY_ARN names a key the stack cannot replicate",
    ]);
  });
});
