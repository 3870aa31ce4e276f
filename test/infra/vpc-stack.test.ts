/**
 * A stage whose functions live in a VPC (a database in private subnets): both functions
 * attached to the configured subnets and security groups, their roles granted the network
 * interface actions Lambda needs and nothing wider, still with no managed policy.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { allowedActions, type PolicyDocument, resourcesOf, wideningFindings } from "./least-privilege.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, REGION } from "./sst-harness.ts";

const SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"];
const GROUPS = ["sg-0123456789abcdef0"];
const EC2_IN_ACCOUNT = `arn:aws:ec2:${REGION}:${ACCOUNT}:*/*`;

let deployment: Deployment;

beforeAll(async () => {
  deployment = await deployUnderMocks({
    stage: "dev",
    env: { COFFER_VPC_SUBNETS: SUBNETS.join(","), COFFER_VPC_SECURITY_GROUPS: GROUPS.join(",") },
  });
}, 360_000);

const rolePolicy = (name: string): PolicyDocument =>
  JSON.parse(deployment.one("aws:iam/role:Role", name).inputs.inlinePolicies[0].policy);
const logStreams = (fn: string) =>
  `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/coffer-dev-${fn}:*`;

describe("a stage in a VPC", () => {
  it("attaches both functions to the subnets and security groups", () => {
    for (const name of ["ApiFunction", "RevokerFunction"]) {
      expect(deployment.one("aws:lambda/function:Function", name).inputs.vpcConfig).toEqual({
        subnetIds: SUBNETS,
        securityGroupIds: GROUPS,
      });
    }
  });

  it("grants the network interface actions instead of AWSLambdaVPCAccessExecutionRole, scoped to the account", () => {
    for (const [name, fn] of [
      ["ApiRole", "api"],
      ["RevokerRole", "revoker"],
    ] as const) {
      expect(deployment.one("aws:iam/role:Role", name).inputs.managedPolicyArns).toEqual([]);
      const policy = rolePolicy(name);
      const ec2 = allowedActions(policy).filter((action) => action.startsWith("ec2:"));
      expect(ec2).toEqual([
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:UnassignPrivateIpAddresses",
      ]);
      for (const action of ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]) {
        expect(resourcesOf(policy, action)).toEqual(["*"]);
      }
      for (const action of ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]) {
        expect(resourcesOf(policy, action)).toEqual([EC2_IN_ACCOUNT]);
      }
      // The Describe actions support no narrower resource; nothing else is wider than it must be.
      expect(wideningFindings(policy, [logStreams(fn), EC2_IN_ACCOUNT])).toEqual([
        expect.stringMatching(/: every resource \("\*"\)$/),
      ]);
    }
  });

  it("declares no VPC resources of its own: the operator's VPC is used as it is", () => {
    const types = new Set(deployment.resources.map((resource) => resource.type));
    expect([...types].filter((type) => type.startsWith("aws:ec2/"))).toEqual([]);
  });
});
