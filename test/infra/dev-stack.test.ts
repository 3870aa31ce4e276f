/**
 * A development stage with the least configuration: an existing KMS key, no target roles,
 * no alarm email. What production keeps, a development stage lets go; what no stage may
 * have (wide permissions, a root-trusting role), it still does not have.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { allowedActions, type PolicyDocument, resourcesOf, wideningFindings } from "./least-privilege.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, REGION } from "./sst-harness.ts";

const EXISTING_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d`;

let deployment: Deployment;

beforeAll(async () => {
  deployment = await deployUnderMocks({ stage: "dev", env: { COFFER_KMS_KEY_ARN: EXISTING_KEY } });
}, 360_000);

const rolePolicy = (name: string): PolicyDocument =>
  JSON.parse(deployment.one("aws:iam/role:Role", name).inputs.inlinePolicies[0].policy);

describe("a development stage", () => {
  it("uses the existing key as it is: no key, alias or key policy of its own", () => {
    expect(deployment.of("aws:kms/key:Key")).toEqual([]);
    expect(deployment.of("aws:kms/alias:Alias")).toEqual([]);
    expect(deployment.of("aws:kms/keyPolicy:KeyPolicy")).toEqual([]);
    expect(deployment.outputs.kmsKeyArn).toBe(EXISTING_KEY);
    // The injector is given no key at all (injector-stack.test.ts).
    for (const fn of deployment
      .of("aws:lambda/function:Function")
      .filter((f) => f.name !== "InjectorFunction")) {
      expect(fn.inputs.environment.variables.COFFER_KMS_KEY_ID).toBe(EXISTING_KEY);
      expect(fn.inputs.environment.variables).not.toHaveProperty("COFFER_CLUSTER_NAME");
    }
    for (const name of ["ApiRole", "RevokerRole"]) {
      expect(resourcesOf(rolePolicy(name), "kms:Decrypt")).toEqual([EXISTING_KEY]);
    }
  });

  it("grants no STS or IAM action when no target role is configured", () => {
    for (const name of ["ApiRole", "RevokerRole"]) {
      const actions = allowedActions(rolePolicy(name));
      expect(actions.filter((action) => action.startsWith("sts:") || action.startsWith("iam:"))).toEqual([]);
      expect(
        wideningFindings(rolePolicy(name), [
          `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/coffer-dev-${name === "ApiRole" ? "api" : "revoker"}:*`,
        ]),
      ).toEqual([]);
    }
  });

  it("traces nothing unless COFFER_TRACING says so: no active tracing, no X-Ray permission", () => {
    for (const fn of deployment.of("aws:lambda/function:Function")) {
      expect(fn.inputs.tracingConfig).toBeUndefined();
      expect(fn.inputs.environment?.variables ?? {}).not.toHaveProperty("COFFER_TRACING");
    }
    for (const name of ["ApiRole", "RevokerRole", "InjectorRole"]) {
      expect(allowedActions(rolePolicy(name)).filter((action) => action.startsWith("xray:"))).toEqual([]);
    }
  });

  it("can be removed whole: no deletion protection, nothing retained, short log retention", () => {
    const table = deployment.one("aws:dynamodb/table:Table");
    expect(table.inputs.deletionProtectionEnabled).toBe(false);
    expect(table.inputs.ttl).toEqual({ attributeName: "expires_at", enabled: true });
    expect(deployment.app).toMatchObject({ removal: "remove", protect: false });
    for (const [key, options] of deployment.options) {
      expect({ key, retainOnDelete: options.retainOnDelete ?? false }).toEqual({
        key,
        retainOnDelete: false,
      });
    }
    for (const group of deployment.of("aws:cloudwatch/logGroup:LogGroup")) {
      expect(group.inputs.retentionInDays).toBe(14);
    }
  });

  it("still trusts only the Lambda service and still has its alarms, without an email subscription", () => {
    for (const name of ["ApiRole", "RevokerRole"]) {
      const trust = JSON.parse(deployment.one("aws:iam/role:Role", name).inputs.assumeRolePolicy);
      expect(trust.Statement).toEqual([
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
    expect(deployment.of("aws:cloudwatch/metricAlarm:MetricAlarm")).toHaveLength(10);
    expect(deployment.of("aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
  });
});
