/**
 * A stage whose API is private (COFFER_INGRESS=private-alb): an internal load balancer in
 * the operator's subnets, open on 443 to the clusters' ranges only, the function invocable
 * by its target group alone and with no function URL, a certificate created and validated
 * in the zone, a DNS alias, and a WAF rate limit per source IP.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { RATE_LIMITED_BODY, TLS_POLICY } from "../../stacks/ingress-settings.ts";
import { internetPaths } from "./internet-paths.ts";
import {
  ACCOUNT,
  type Deployment,
  deployUnderMocks,
  ELB_ZONE_ID,
  REGION,
  SUBNET_VPC,
} from "./sst-harness.ts";

const SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"];
const CLUSTERS = ["10.20.0.0/16", "10.30.0.0/16"];
const DOMAIN = "coffer.internal.example.com";
const ZONE = "Z0123456789ABCDEFGHIJ";
const API = "coffer-staging-api";

let deployment: Deployment;

beforeAll(async () => {
  deployment = await deployUnderMocks({
    stage: "staging",
    env: {
      COFFER_INGRESS: "private-alb",
      COFFER_INGRESS_SUBNETS: SUBNETS.join(","),
      COFFER_INGRESS_ALLOWED_CIDRS: CLUSTERS.join(", "),
      COFFER_DOMAIN: DOMAIN,
      COFFER_HOSTED_ZONE_ID: ZONE,
      COFFER_WAF_RATE_LIMIT: "3000",
    },
  });
}, 360_000);

const one = (type: string, name?: string) => deployment.one(type, name).inputs;
const arnOf = (type: string, name: string) => `arn:aws:${type}:${REGION}:${ACCOUNT}:${name}`;

describe("a private ingress", () => {
  it("cannot be reached from the internet: no function URL, no public address, no open rule, no other invoker", () => {
    expect(internetPaths(deployment, API)).toEqual([]);
  });

  it("is an internal, IPv4-only load balancer in the given subnets that drops invalid headers", () => {
    expect(one("aws:lb/loadBalancer:LoadBalancer")).toMatchObject({
      loadBalancerType: "application",
      internal: true,
      ipAddressType: "ipv4",
      subnets: SUBNETS,
      securityGroups: ["IngressSecurityGroup-id"],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: false,
    });
  });

  it("admits HTTPS on 443 from the clusters' ranges alone, in the subnets' VPC, and sends nothing out", () => {
    const group = one("aws:ec2/securityGroup:SecurityGroup");
    expect(group.vpcId).toBe(SUBNET_VPC);
    expect(group.ingress).toEqual([
      expect.objectContaining({ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: CLUSTERS }),
    ]);
    expect(group.ingress[0].ipv6CidrBlocks).toBeUndefined();
    expect(group.egress).toEqual([]);
  });

  it("listens on 443 alone, over TLS 1.2 and 1.3, with the validated certificate, forwarding to the function", () => {
    const listeners = deployment.of("aws:lb/listener:Listener").map((l) => l.inputs);
    expect(listeners).toHaveLength(1);
    expect(listeners[0]).toMatchObject({
      port: 443,
      protocol: "HTTPS",
      sslPolicy: TLS_POLICY,
      certificateArn: arnOf("acm", "IngressCertificate"),
      defaultActions: [{ type: "forward", targetGroupArn: arnOf("lb", "IngressTargetGroup") }],
    });
    expect(one("aws:lb/targetGroup:TargetGroup")).toMatchObject({
      targetType: "lambda",
      lambdaMultiValueHeadersEnabled: true,
    });
    expect(one("aws:lb/targetGroupAttachment:TargetGroupAttachment")).toMatchObject({
      targetGroupArn: arnOf("lb", "IngressTargetGroup"),
      targetId: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${API}`,
    });
    expect(one("aws:lambda/permission:Permission", "IngressInvokesApi")).toEqual({
      action: "lambda:InvokeFunction",
      function: API,
      principal: "elasticloadbalancing.amazonaws.com",
      sourceArn: arnOf("lb", "IngressTargetGroup"),
    });
  });

  it("creates an ACM certificate for the domain, validated by DNS in the zone, and an alias to the load balancer", () => {
    expect(one("aws:acm/certificate:Certificate")).toMatchObject({
      domainName: DOMAIN,
      validationMethod: "DNS",
    });
    expect(one("aws:route53/record:Record", "IngressCertificateValidationRecord")).toMatchObject({
      zoneId: ZONE,
      name: `_validation.${DOMAIN}.`,
      type: "CNAME",
    });
    expect(one("aws:acm/certificateValidation:CertificateValidation").validationRecordFqdns).toEqual([
      `_validation.${DOMAIN}.`,
    ]);
    expect(one("aws:route53/record:Record", "IngressDomain")).toMatchObject({
      zoneId: ZONE,
      name: DOMAIN,
      type: "A",
      aliases: [
        {
          name: `ingressloadbalancer.${REGION}.elb.amazonaws.com`,
          zoneId: ELB_ZONE_ID,
          evaluateTargetHealth: false,
        },
      ],
    });
  });

  it("blocks a source IP past its rate with a Vault-style 429, on the load balancer", () => {
    const acl = one("aws:wafv2/webAcl:WebAcl");
    expect(acl).toMatchObject({ scope: "REGIONAL", defaultAction: { allow: {} } });
    expect(acl.rules).toEqual([
      expect.objectContaining({
        action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: "rate-limited" } } },
        statement: { rateBasedStatement: { limit: 3000, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
      }),
    ]);
    expect(acl.customResponseBodies).toEqual([
      { key: "rate-limited", contentType: "APPLICATION_JSON", content: RATE_LIMITED_BODY },
    ]);
    expect(one("aws:wafv2/webAclAssociation:WebAclAssociation")).toEqual({
      resourceArn: arnOf("lb", "IngressLoadBalancer"),
      webAclArn: arnOf("wafv2", "IngressFirewall"),
    });
  });

  it("gives the injected agents and the operator the domain as the address", () => {
    expect(deployment.outputs.url).toBe(`https://${DOMAIN}/`);
    const injector = one("aws:lambda/function:Function", "InjectorFunction");
    expect(injector.environment.variables.COFFER_INJECTOR_ADDRESS).toBe(`https://${DOMAIN}`);
  });
});
