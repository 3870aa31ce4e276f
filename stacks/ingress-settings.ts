/**
 * How clients reach the API, per stage (COFFER_INGRESS and the variables that go with it),
 * read and checked with the rest of the stage settings:
 *
 * - `function-url` (the default): a Lambda function URL, public, authorization NONE: every
 *   Vault request carries its own token. No custom domain, no WAF: neither can be attached
 *   to a function URL.
 * - `private-alb`: an internal Application Load Balancer in the operator's subnets, with the
 *   function as its target, reachable only from the CIDR ranges given (the clusters' VPCs),
 *   over HTTPS on the stage's own domain. No function URL exists.
 * - `public-alb`: the same load balancer, internet-facing: a custom domain and WAF for a
 *   broker that stays on the internet. No function URL exists, so WAF cannot be bypassed.
 *
 * docs/deploy.md says why a load balancer rather than a private API Gateway REST API.
 */
import { commaList } from "./comma-list.ts";
import { SUBNET } from "./vpc.ts";

export const INGRESS_KINDS = ["function-url", "private-alb", "public-alb"] as const;
export type IngressKind = (typeof INGRESS_KINDS)[number];

export interface LoadBalancerSettings {
  /** At least two subnets in different availability zones, as an ALB requires. */
  subnets: string[];
  /** IPv4 ranges allowed to connect on 443. */
  allowedCidrs: string[];
  /** The name clients use: the certificate's and the DNS record's. */
  domain: string;
  /** An ACM certificate for the domain in the stage's region; created and validated in the zone when absent. */
  certificateArn?: string;
  /** A Route 53 zone where the domain gets an alias record to the load balancer. */
  hostedZoneId?: string;
  /** Requests per source IP per five minutes before AWS WAF blocks that IP; no WAF when absent. */
  wafRateLimit?: number;
}

export type IngressSettings =
  | { kind: "function-url" }
  | ({ kind: "private-alb" | "public-alb" } & LoadBalancerSettings);

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const CERTIFICATE_ARN = /^arn:(?:aws|aws-cn|aws-us-gov):acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,32}$/;
/** TLS 1.3 and 1.2 with forward secrecy only: what every Vault client speaks. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** WAF counts requests per source IP over this window (seconds). */
export const WAF_WINDOW_SECONDS = 300;
/** What a client over the limit gets: 429 with a Vault-style error body, which Vault clients retry. */
export const RATE_LIMITED_BODY = JSON.stringify({ errors: ["rate limit quota exceeded"] });

/** AWS WAF's bounds for a rate-based rule's limit. */
export const WAF_RATE_LIMIT = { min: 10, max: 2_000_000_000 };

const ALB_ONLY = [
  "COFFER_INGRESS_SUBNETS",
  "COFFER_INGRESS_ALLOWED_CIDRS",
  "COFFER_DOMAIN",
  "COFFER_CERTIFICATE_ARN",
  "COFFER_HOSTED_ZONE_ID",
] as const;

/** Why `cidr` cannot be a source range, or undefined when it can. */
export function cidrProblem(cidr: string): string | undefined {
  const match = CIDR.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const bits = Number(match?.[5]);
  if (!match || octets.some((octet) => octet > 255) || bits > 32) {
    return `"${cidr}" is not an IPv4 range (a.b.c.d/n)`;
  }
  const address = octets.reduce((all, octet) => all * 256 + octet, 0);
  if (bits < 32 && address % 2 ** (32 - bits) !== 0) return `"${cidr}" has host bits set`;
  return undefined;
}

/** The ingress settings; problems are added to `problems`, each naming its variable. */
export function readIngressSettings(
  value: (name: string) => string | undefined,
  problems: string[],
): IngressSettings {
  const kindValue = value("COFFER_INGRESS") ?? "function-url";
  const kind = (INGRESS_KINDS as readonly string[]).includes(kindValue)
    ? (kindValue as IngressKind)
    : undefined;
  if (kind === undefined) {
    problems.push(`COFFER_INGRESS: "${kindValue}" is not one of ${INGRESS_KINDS.join(", ")}`);
    return { kind: "function-url" };
  }

  const rateValue = value("COFFER_WAF_RATE_LIMIT");
  if (kind === "function-url") {
    for (const name of ALB_ONLY) {
      if (value(name) !== undefined) {
        problems.push(
          `${name} applies to a load balancer: a function URL has no custom domain, certificate or subnets (set COFFER_INGRESS=private-alb or public-alb)`,
        );
      }
    }
    if (rateValue !== undefined) {
      problems.push(
        "COFFER_WAF_RATE_LIMIT: AWS WAF cannot be attached to a Lambda function URL; set COFFER_INGRESS=public-alb (or private-alb) to put the API behind a load balancer WAF protects",
      );
    }
    return { kind };
  }

  const subnetsValue = value("COFFER_INGRESS_SUBNETS");
  const subnets = subnetsValue === undefined ? [] : commaList(subnetsValue);
  for (const subnet of subnets) {
    if (!SUBNET.test(subnet))
      problems.push(`COFFER_INGRESS_SUBNETS: "${subnet}" is not a subnet id (subnet-...)`);
  }
  if (subnets.length < 2) {
    problems.push(
      `COFFER_INGRESS_SUBNETS: a load balancer needs at least two subnets in different availability zones (${kind === "private-alb" ? "private" : "public"} subnets)`,
    );
  }

  const cidrsValue = value("COFFER_INGRESS_ALLOWED_CIDRS");
  let allowedCidrs: string[];
  if (cidrsValue === undefined) {
    if (kind === "private-alb") {
      problems.push(
        "COFFER_INGRESS_ALLOWED_CIDRS must name the IPv4 ranges of the clusters' VPCs that may reach a private-alb ingress",
      );
    }
    allowedCidrs = kind === "public-alb" ? ["0.0.0.0/0"] : [];
  } else {
    allowedCidrs = commaList(cidrsValue);
    if (allowedCidrs.length === 0) problems.push("COFFER_INGRESS_ALLOWED_CIDRS: an empty list");
    for (const cidr of allowedCidrs) {
      const problem = cidrProblem(cidr);
      if (problem) problems.push(`COFFER_INGRESS_ALLOWED_CIDRS: ${problem}`);
      else if (kind === "private-alb" && cidr.endsWith("/0")) {
        problems.push(
          `COFFER_INGRESS_ALLOWED_CIDRS: "${cidr}" is every address; a private ingress names its clients' ranges`,
        );
      }
    }
  }

  const domain = value("COFFER_DOMAIN")?.toLowerCase();
  if (domain === undefined) {
    problems.push(`COFFER_DOMAIN must name the DNS name clients use: a ${kind} ingress serves HTTPS only`);
  } else if (!DOMAIN.test(domain)) {
    problems.push(`COFFER_DOMAIN: "${domain}" is not a DNS name (no wildcards, no trailing dot)`);
  }

  const certificateArn = value("COFFER_CERTIFICATE_ARN");
  if (certificateArn !== undefined && !CERTIFICATE_ARN.test(certificateArn)) {
    problems.push(`COFFER_CERTIFICATE_ARN: "${certificateArn}" is not an ACM certificate ARN`);
  }
  const hostedZoneId = value("COFFER_HOSTED_ZONE_ID");
  if (hostedZoneId !== undefined && !HOSTED_ZONE_ID.test(hostedZoneId)) {
    problems.push(`COFFER_HOSTED_ZONE_ID: "${hostedZoneId}" is not a Route 53 hosted zone id (Z...)`);
  }
  if (certificateArn === undefined && hostedZoneId === undefined) {
    problems.push(
      "COFFER_CERTIFICATE_ARN or COFFER_HOSTED_ZONE_ID: give a certificate for the domain, or the public zone to validate a new one in",
    );
  }

  let wafRateLimit: number | undefined;
  if (rateValue !== undefined) {
    wafRateLimit = /^\d+$/.test(rateValue) ? Number(rateValue) : Number.NaN;
    if (!(wafRateLimit >= WAF_RATE_LIMIT.min && wafRateLimit <= WAF_RATE_LIMIT.max)) {
      problems.push(
        `COFFER_WAF_RATE_LIMIT: "${rateValue}" must be a whole number of requests per source IP per 5 minutes, ${WAF_RATE_LIMIT.min} to ${WAF_RATE_LIMIT.max}`,
      );
    }
  }

  return {
    kind,
    subnets,
    allowedCidrs,
    domain: domain ?? "",
    ...(certificateArn !== undefined && { certificateArn }),
    ...(hostedZoneId !== undefined && { hostedZoneId }),
    ...(wafRateLimit !== undefined && { wafRateLimit }),
  };
}
