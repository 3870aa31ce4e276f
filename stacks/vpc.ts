/**
 * An optional VPC attachment for both functions, for a database the database engine
 * reaches in private subnets: COFFER_VPC_SUBNETS and COFFER_VPC_SECURITY_GROUPS, both or
 * neither. docs/deploy.md says what else such a VPC needs (a route to DynamoDB, KMS, STS
 * and IAM).
 *
 * Lambda creates the functions' network interfaces with their execution roles. SST would
 * attach AWSLambdaVPCAccessExecutionRole for that, which grants its EC2 actions on every
 * resource of every account; broker-function.ts removes managed policies, so the same
 * actions are granted here instead: the two Describe actions on "*" (they support nothing
 * narrower) and the others on this account's EC2 resources in the stage's region.
 */
import { commaList } from "./comma-list.ts";
import type { Statement } from "./function-permissions.ts";

export interface VpcSettings {
  subnets: string[];
  securityGroups: string[];
}

export const SUBNET = /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
// Lambda's own limits on a function's VPC configuration.
const MAX_SUBNETS = 16;
const MAX_SECURITY_GROUPS = 5;

export const VPC_DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"];
export const VPC_INTERFACE_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

/** The VPC settings, or undefined when neither variable is set; problems are added to `problems`. */
export function readVpcSettings(
  subnetsValue: string | undefined,
  securityGroupsValue: string | undefined,
  problems: string[],
): VpcSettings | undefined {
  if (subnetsValue === undefined && securityGroupsValue === undefined) return undefined;
  if (subnetsValue === undefined || securityGroupsValue === undefined) {
    problems.push("COFFER_VPC_SUBNETS and COFFER_VPC_SECURITY_GROUPS go together: set both or neither");
    return undefined;
  }
  const subnets = commaList(subnetsValue);
  const securityGroups = commaList(securityGroupsValue);
  for (const subnet of subnets) {
    if (!SUBNET.test(subnet))
      problems.push(`COFFER_VPC_SUBNETS: "${subnet}" is not a subnet id (subnet-...)`);
  }
  for (const group of securityGroups) {
    if (!SECURITY_GROUP.test(group))
      problems.push(`COFFER_VPC_SECURITY_GROUPS: "${group}" is not a security group id (sg-...)`);
  }
  if (subnets.length === 0 || subnets.length > MAX_SUBNETS) {
    problems.push(
      `COFFER_VPC_SUBNETS: give 1 to ${MAX_SUBNETS} subnets (two or more, in different zones, for availability)`,
    );
  }
  if (securityGroups.length === 0 || securityGroups.length > MAX_SECURITY_GROUPS) {
    problems.push(`COFFER_VPC_SECURITY_GROUPS: give 1 to ${MAX_SECURITY_GROUPS} security groups`);
  }
  return { subnets, securityGroups };
}

/** What the execution role needs for Lambda to attach the function; `ec2InAccount` is arn:<partition>:ec2:<region>:<account>:*\/*. */
export function vpcStatements<R>(ec2InAccount: R): Statement<R>[] {
  return [
    { actions: [...VPC_DESCRIBE_ACTIONS], resources: ["*"] },
    { actions: [...VPC_INTERFACE_ACTIONS], resources: [ec2InAccount] },
  ];
}
