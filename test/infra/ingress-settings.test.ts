/**
 * COFFER_INGRESS and the variables that go with it: read and checked with the rest of the
 * stage settings, every mistake reported at once with the variable it comes from.
 */
import { describe, expect, it } from "vitest";
import { cidrProblem } from "../../stacks/ingress-settings.ts";
import { readStageSettings } from "../../stacks/stage-settings.ts";
import { problemsOf } from "./settings-problems.ts";

const SUBNETS = "subnet-0a1b2c3d4e5f60718, subnet-1234abcd";
const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d";
const PRIVATE = {
  COFFER_INGRESS: "private-alb",
  COFFER_INGRESS_SUBNETS: SUBNETS,
  COFFER_INGRESS_ALLOWED_CIDRS: "10.20.0.0/16",
  COFFER_DOMAIN: "Coffer.Internal.example.com",
  COFFER_CERTIFICATE_ARN: CERTIFICATE,
};

describe("ingress settings", () => {
  it("default to a function URL", () => {
    expect(readStageSettings("dev", {}).ingress).toEqual({ kind: "function-url" });
    expect(readStageSettings("dev", { COFFER_INGRESS: "function-url" }).ingress).toEqual({
      kind: "function-url",
    });
  });

  it("read a private load balancer: subnets without repeats, ranges, the domain in lower case", () => {
    expect(readStageSettings("dev", { ...PRIVATE, COFFER_WAF_RATE_LIMIT: "2000" }).ingress).toEqual({
      kind: "private-alb",
      subnets: ["subnet-0a1b2c3d4e5f60718", "subnet-1234abcd"],
      allowedCidrs: ["10.20.0.0/16"],
      domain: "coffer.internal.example.com",
      certificateArn: CERTIFICATE,
      wafRateLimit: 2000,
    });
  });

  it("open a public load balancer to every address unless told otherwise", () => {
    const { ingress } = readStageSettings("dev", {
      COFFER_INGRESS: "public-alb",
      COFFER_INGRESS_SUBNETS: SUBNETS,
      COFFER_DOMAIN: "vault.example.com",
      COFFER_HOSTED_ZONE_ID: "Z0123456789ABCDEFGHIJ",
    });
    expect(ingress).toMatchObject({ kind: "public-alb", allowedCidrs: ["0.0.0.0/0"] });
  });

  it("refuse an unknown kind", () => {
    expect(problemsOf({ COFFER_INGRESS: "api-gateway" })).toEqual([
      'COFFER_INGRESS: "api-gateway" is not one of function-url, private-alb, public-alb',
    ]);
  });

  it("refuse load balancer settings and WAF on a function URL, which can take neither", () => {
    const problems = problemsOf({ COFFER_DOMAIN: "vault.example.com", COFFER_WAF_RATE_LIMIT: "100" });
    expect(problems).toEqual([
      expect.stringMatching(/^COFFER_DOMAIN applies to a load balancer/),
      expect.stringMatching(/^COFFER_WAF_RATE_LIMIT: AWS WAF cannot be attached to a Lambda function URL/),
    ]);
  });

  it("refuse a private load balancer open to every address, or with no ranges at all", () => {
    expect(problemsOf({ ...PRIVATE, COFFER_INGRESS_ALLOWED_CIDRS: "10.0.0.0/8,0.0.0.0/0" })).toEqual([
      'COFFER_INGRESS_ALLOWED_CIDRS: "0.0.0.0/0" is every address; a private ingress names its clients\' ranges',
    ]);
    const { COFFER_INGRESS_ALLOWED_CIDRS: _, ...withoutRanges } = PRIVATE;
    expect(problemsOf(withoutRanges)).toEqual([
      expect.stringMatching(/^COFFER_INGRESS_ALLOWED_CIDRS must name the IPv4 ranges/),
    ]);
  });

  it("name every missing or malformed piece of a load balancer at once", () => {
    expect(
      problemsOf({
        COFFER_INGRESS: "private-alb",
        COFFER_INGRESS_SUBNETS: "subnet-nope",
        COFFER_INGRESS_ALLOWED_CIDRS: "10.0.0.1/8",
        COFFER_DOMAIN: "*.example.com",
        COFFER_HOSTED_ZONE_ID: "zone",
        COFFER_WAF_RATE_LIMIT: "5",
      }),
    ).toEqual([
      'COFFER_INGRESS_SUBNETS: "subnet-nope" is not a subnet id (subnet-...)',
      expect.stringMatching(/^COFFER_INGRESS_SUBNETS: a load balancer needs at least two subnets/),
      'COFFER_INGRESS_ALLOWED_CIDRS: "10.0.0.1/8" has host bits set',
      'COFFER_DOMAIN: "*.example.com" is not a DNS name (no wildcards, no trailing dot)',
      'COFFER_HOSTED_ZONE_ID: "zone" is not a Route 53 hosted zone id (Z...)',
      expect.stringMatching(/^COFFER_WAF_RATE_LIMIT: "5" must be a whole number .* 10 to 2000000000$/),
    ]);
    expect(problemsOf({ COFFER_INGRESS: "public-alb", COFFER_INGRESS_SUBNETS: SUBNETS })).toEqual([
      expect.stringMatching(/^COFFER_DOMAIN must name the DNS name clients use/),
      expect.stringMatching(/^COFFER_CERTIFICATE_ARN or COFFER_HOSTED_ZONE_ID/),
    ]);
  });

  it("check ranges as IPv4 networks", () => {
    expect(cidrProblem("10.20.0.0/16")).toBeUndefined();
    expect(cidrProblem("192.168.1.7/32")).toBeUndefined();
    expect(cidrProblem("256.0.0.0/8")).toMatch(/is not an IPv4 range/);
    expect(cidrProblem("10.0.0.0/33")).toMatch(/is not an IPv4 range/);
    expect(cidrProblem("fd00::/8")).toMatch(/is not an IPv4 range/);
    expect(cidrProblem("10.0.0.128/24")).toMatch(/host bits set/);
  });
});
