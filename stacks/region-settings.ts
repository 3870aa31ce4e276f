/**
 * A second region for the stage (COFFER_SECONDARY_REGION): the table becomes a DynamoDB
 * global table with a replica there, the root key a KMS multi-Region key with a replica
 * key there, and the API runs there too, behind its own function URL (regions.ts). The
 * stage's own region stays the home region: requests that rely on a conditional write
 * being exact are served against its table (docs/deploy.md, "More than one region").
 *
 * Refused together with what cannot span regions: a load balancer ingress and a VPC
 * attachment name subnets of one region, and an existing key cannot be given a replica by
 * the stack (only a key created multi-Region has one).
 */
import type { IngressSettings } from "./ingress-settings.ts";
import type { VpcSettings } from "./vpc.ts";

/** An AWS region name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1. */
const REGION = /^[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}$/;

/** Commercial regions where Lambda has no function URLs (docs/deploy.md, Ingress). */
export const NO_FUNCTION_URL_REGIONS = [
  "ap-south-2",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ap-east-2",
  "ca-west-1",
  "eu-south-2",
  "eu-central-2",
  "il-central-1",
  "me-central-1",
];

const partitionOf = (region: string) =>
  region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";

export interface RegionChoices {
  /** The stage's own region, when the environment names it (AWS_REGION or AWS_DEFAULT_REGION). */
  homeRegion?: string;
  ingress: IngressSettings;
  vpc?: VpcSettings;
  existingKeyArn?: string;
}

/** The second region, or undefined when none is set; problems are added to `problems`. */
export function readSecondaryRegion(
  value: string | undefined,
  choices: RegionChoices,
  problems: string[],
): string | undefined {
  if (value === undefined) return undefined;
  const name = "COFFER_SECONDARY_REGION";
  if (!REGION.test(value)) {
    problems.push(`${name}: "${value}" is not an AWS region name (such as eu-west-1)`);
    return undefined;
  }
  const home = choices.homeRegion;
  if (home !== undefined && value === home) {
    problems.push(`${name}: "${value}" is the stage's own region; name a different one`);
  } else if (home !== undefined && partitionOf(home) !== partitionOf(value)) {
    problems.push(
      `${name}: "${value}" is in another AWS partition than the stage's region "${home}"; a global table cannot span them`,
    );
  }
  if (NO_FUNCTION_URL_REGIONS.includes(value)) {
    problems.push(
      `${name}: Lambda has no function URLs in "${value}", and the second region's API is reached through one`,
    );
  }
  if (choices.ingress.kind !== "function-url") {
    problems.push(
      `${name}: a ${choices.ingress.kind} ingress has subnets and a certificate in one region and cannot span two; a second region needs COFFER_INGRESS=function-url`,
    );
  }
  if (choices.vpc !== undefined) {
    problems.push(
      `${name}: COFFER_VPC_SUBNETS are subnets of one region; functions in a second region cannot use them`,
    );
  }
  if (choices.existingKeyArn !== undefined) {
    problems.push(
      `${name}: a second region needs the multi-Region key Coffer creates, with its replica there; COFFER_KMS_KEY_ARN names a key the stack cannot replicate`,
    );
  }
  return value;
}
