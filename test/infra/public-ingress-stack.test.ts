/**
 * A stage that stays on the internet behind a load balancer (COFFER_INGRESS=public-alb):
 * its own domain with a certificate the operator gives, WAF's rate limit per source IP,
 * and no function URL to go around either. It is reachable from the internet, and the
 * check the private stage passes says so here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { internetPaths } from "./internet-paths.ts";
import { type Deployment, deployUnderMocks, REGION } from "./sst-harness.ts";

const SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"];
const CERTIFICATE = `arn:aws:acm:${REGION}:123456789012:certificate/0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d`;
const DOMAIN = "vault.example.com";

let deployment: Deployment;

beforeAll(async () => {
  deployment = await deployUnderMocks({
    stage: "edge",
    env: {
      COFFER_INGRESS: "public-alb",
      COFFER_INGRESS_SUBNETS: SUBNETS.join(","),
      COFFER_DOMAIN: DOMAIN,
      COFFER_CERTIFICATE_ARN: CERTIFICATE,
      COFFER_WAF_RATE_LIMIT: "500",
    },
  });
}, 360_000);

describe("a public load balancer ingress", () => {
  it("is reachable from the internet through the load balancer alone, which the private check detects", () => {
    expect(internetPaths(deployment, "coffer-edge-api")).toEqual([
      "internet-facing load balancer IngressLoadBalancer",
      "security group IngressSecurityGroup open to 0.0.0.0/0",
    ]);
  });

  it("leaves the API function without a URL of its own, so WAF cannot be gone around", () => {
    const urls = deployment.of("aws:lambda/functionUrl:FunctionUrl").map((url) => url.inputs.functionName);
    expect(urls).toEqual(["coffer-edge-injector"]);
  });

  it("serves the given certificate and creates none, nor any DNS record without a zone", () => {
    expect(deployment.one("aws:lb/listener:Listener").inputs.certificateArn).toBe(CERTIFICATE);
    expect(deployment.of("aws:acm/certificate:Certificate")).toEqual([]);
    expect(deployment.of("aws:route53/record:Record")).toEqual([]);
    expect(deployment.outputs.url).toBe(`https://${DOMAIN}/`);
  });

  it("rate-limits each source IP with WAF on the load balancer", () => {
    const acl = deployment.one("aws:wafv2/webAcl:WebAcl").inputs;
    expect(acl.rules[0].statement.rateBasedStatement).toEqual({
      limit: 500,
      aggregateKeyType: "IP",
      evaluationWindowSec: 300,
    });
    expect(deployment.of("aws:wafv2/webAclAssociation:WebAclAssociation")).toHaveLength(1);
  });
});
