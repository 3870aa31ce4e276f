/**
 * The way in to the API, as the stage's ingress settings choose (ingress-settings.ts).
 *
 * A function URL is declared with the function itself (api.ts); here only its address is
 * passed on. A load balancer ingress is an Application Load Balancer with the API function
 * as its only target: HTTPS on 443 alone (TLS 1.2 and 1.3; no port 80, so a token is never
 * sent in clear by mistake), a security group open on 443 to the allowed ranges only, the
 * function invocable by this target group alone, a certificate from ACM, a DNS alias when
 * a zone is given, and AWS WAF with a rate-based rule per source IP when a limit is set.
 * The load balancer invokes the function directly, not over the network, so its security
 * group needs no outbound rule and has none.
 */
import {
  type LoadBalancerSettings,
  RATE_LIMITED_BODY,
  TLS_POLICY,
  WAF_WINDOW_SECONDS,
} from "./ingress-settings.ts";
import type { StageSettings } from "./stage-settings.ts";

export interface IngressInput {
  settings: StageSettings;
  /** The API function, with its URL when the stage's ingress is a function URL. */
  api: sst.aws.Function;
}

export interface Ingress {
  /** The address clients use (VAULT_ADDR), ending in "/". */
  url: $util.Output<string>;
}

export function createIngress(input: IngressInput): Ingress {
  const { ingress } = input.settings;
  if (ingress.kind === "function-url") return { url: input.api.url };
  createLoadBalancer(input.settings, ingress, input.api, ingress.kind === "private-alb");
  return { url: $output(`https://${ingress.domain}/`) };
}

function createLoadBalancer(
  settings: StageSettings,
  lb: LoadBalancerSettings,
  api: sst.aws.Function,
  internal: boolean,
) {
  const vpcId = aws.ec2.getSubnetOutput({ id: lb.subnets[0]! }).vpcId;
  const securityGroup = new aws.ec2.SecurityGroup("IngressSecurityGroup", {
    vpcId,
    description: `Coffer ${settings.stage}: HTTPS from the allowed ranges to the API's load balancer`,
    ingress: [
      {
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: lb.allowedCidrs,
        description: "Vault API clients",
      },
    ],
    egress: [],
  });

  const loadBalancer = new aws.lb.LoadBalancer("IngressLoadBalancer", {
    loadBalancerType: "application",
    internal,
    ipAddressType: "ipv4",
    subnets: lb.subnets,
    securityGroups: [securityGroup.id],
    // Headers that are not valid HTTP never reach the broker.
    dropInvalidHeaderFields: true,
    enableDeletionProtection: settings.production,
  });

  const targetGroup = new aws.lb.TargetGroup("IngressTargetGroup", {
    targetType: "lambda",
    // Repeated query parameters and headers arrive as lists, as the client sent them.
    lambdaMultiValueHeadersEnabled: true,
  });
  const permission = new aws.lambda.Permission("IngressInvokesApi", {
    action: "lambda:InvokeFunction",
    function: api.name,
    principal: "elasticloadbalancing.amazonaws.com",
    sourceArn: targetGroup.arn,
  });
  new aws.lb.TargetGroupAttachment(
    "IngressTarget",
    { targetGroupArn: targetGroup.arn, targetId: api.arn },
    { dependsOn: [permission] },
  );

  new aws.lb.Listener("IngressHttps", {
    loadBalancerArn: loadBalancer.arn,
    port: 443,
    protocol: "HTTPS",
    sslPolicy: TLS_POLICY,
    certificateArn: certificateFor(lb),
    defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
  });

  if (lb.hostedZoneId !== undefined) {
    new aws.route53.Record("IngressDomain", {
      zoneId: lb.hostedZoneId,
      name: lb.domain,
      type: "A",
      aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: false }],
    });
  }

  if (lb.wafRateLimit !== undefined) {
    const firewall = createFirewall(settings.stage, lb.wafRateLimit);
    new aws.wafv2.WebAclAssociation("IngressFirewallAssociation", {
      resourceArn: loadBalancer.arn,
      webAclArn: firewall.arn,
    });
  }
}

/** The certificate given, or a new one validated by DNS in the zone. */
function certificateFor(lb: LoadBalancerSettings): $util.Input<string> {
  if (lb.certificateArn !== undefined) return lb.certificateArn;
  const certificate = new aws.acm.Certificate("IngressCertificate", {
    domainName: lb.domain,
    validationMethod: "DNS",
  });
  // One domain, one validation record.
  const option = certificate.domainValidationOptions.apply((options) => options[0]!);
  const record = new aws.route53.Record("IngressCertificateValidationRecord", {
    zoneId: lb.hostedZoneId!,
    name: option.resourceRecordName,
    type: option.resourceRecordType,
    records: [option.resourceRecordValue],
    ttl: 300,
    allowOverwrite: true,
  });
  return new aws.acm.CertificateValidation("IngressCertificateValidation", {
    certificateArn: certificate.arn,
    validationRecordFqdns: [record.fqdn],
  }).certificateArn;
}

function createFirewall(stage: string, limit: number) {
  const visibility = (metricName: string) => ({
    cloudwatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: true,
  });
  return new aws.wafv2.WebAcl("IngressFirewall", {
    description: `Coffer ${stage}: at most ${limit} requests per source IP per ${WAF_WINDOW_SECONDS / 60} minutes`,
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    customResponseBodies: [
      { key: "rate-limited", contentType: "APPLICATION_JSON", content: RATE_LIMITED_BODY },
    ],
    rules: [
      {
        name: "rate-per-source-ip",
        priority: 0,
        action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: "rate-limited" } } },
        statement: {
          rateBasedStatement: { limit, aggregateKeyType: "IP", evaluationWindowSec: WAF_WINDOW_SECONDS },
        },
        visibilityConfig: visibility(`coffer-${stage}-rate-per-source-ip`),
      },
    ],
    visibilityConfig: visibility(`coffer-${stage}`),
  });
}
