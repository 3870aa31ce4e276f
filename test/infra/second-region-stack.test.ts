/**
 * A stage in two regions (COFFER_SECONDARY_REGION): a global table with a replica there,
 * a multi-Region root key with a replica key there under the same key policy, the API
 * there through a second aws provider, on the local replicas and knowing the home region,
 * and the revoker in the home region alone.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { allowedActions, type PolicyDocument, resourcesOf, wideningFindings } from "./least-privilege.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, MULTI_REGION_KEY_ID, REGION } from "./sst-harness.ts";

const SECONDARY = "eu-west-1";
const tableIn = (region: string) =>
  `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${deployment.one("aws:dynamodb/table:Table").inputs.name}`;
const keyIn = (region: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/${MULTI_REGION_KEY_ID}`;

let deployment: Deployment;

beforeAll(async () => {
  deployment = await deployUnderMocks({
    stage: "production",
    env: { COFFER_TARGET_ROLES: "none", COFFER_SECONDARY_REGION: SECONDARY },
  });
}, 360_000);

const rolePolicy = (name: string): PolicyDocument =>
  JSON.parse(deployment.one("aws:iam/role:Role", name).inputs.inlinePolicies[0].policy);
const roleArn = (name: string) =>
  expect.stringMatching(`^arn:aws:iam::${ACCOUNT}:role/coffer-production-${name}-`);
const functionIn = (region: string, name: string) =>
  deployment.of("aws:lambda/function:Function").filter((fn) => fn.region === region && fn.name === name);

describe("a stage in two regions", () => {
  it("manages the second region's resources through a provider for that region", () => {
    expect(deployment.one("pulumi:providers:aws", "SecondaryRegion").inputs.region).toBe(SECONDARY);
    const elsewhere = deployment.resources
      .filter((resource) => resource.region === SECONDARY)
      .map((resource) => `${resource.type} ${resource.name}`)
      .sort();
    expect(elsewhere).toEqual([
      "aws:cloudwatch/logGroup:LogGroup SecondaryApiLogs",
      "aws:iam/role:Role SecondaryApiRole",
      "aws:kms/keyPolicy:KeyPolicy RootKeyReplicaPolicy",
      "aws:kms/replicaKey:ReplicaKey RootKeyReplica",
      "aws:lambda/function:Function SecondaryApiFunction",
      "aws:lambda/functionUrl:FunctionUrl SecondaryApiUrl",
      "aws:lambda/permission:Permission SecondaryApiInvokeFunction",
      "aws:lambda/permission:Permission SecondaryApiPublicFunctionUrlAccess",
      "aws:s3/bucketObjectv2:BucketObjectv2 SecondaryApiCode",
    ]);
  });

  it("makes the table a global table: streams with both images, a replica with point-in-time recovery and deletion protection", () => {
    const table = deployment.one("aws:dynamodb/table:Table").inputs;
    expect(table).toMatchObject({
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
      replicas: [{ regionName: SECONDARY, pointInTimeRecovery: true, deletionProtectionEnabled: true }],
    });
  });

  it("creates the root key multi-Region, with a replica in the second region under the same key policy", () => {
    const key = deployment.one("aws:kms/key:Key").inputs;
    expect(key.multiRegion).toBe(true);
    expect(deployment.options.get("aws:kms/key:Key::RootKey")?.retainOnDelete).toBe(true);
    expect(deployment.one("aws:kms/replicaKey:ReplicaKey").inputs).toMatchObject({
      primaryKeyArn: keyIn(REGION),
      deletionWindowInDays: 30,
    });
    const home = deployment.one("aws:kms/keyPolicy:KeyPolicy", "RootKeyPolicy").inputs;
    const replica = deployment.one("aws:kms/keyPolicy:KeyPolicy", "RootKeyReplicaPolicy").inputs;
    expect(replica.keyId).toBe(MULTI_REGION_KEY_ID);
    expect(replica.policy).toBe(home.policy);
    const users = JSON.parse(home.policy).Statement.find(
      (s: { Sid: string }) => s.Sid === "BrokerUsesTheKey",
    );
    expect(users.Principal.AWS).toEqual([
      roleArn("ApiRole"),
      roleArn("RevokerRole"),
      roleArn("SecondaryApiRole"),
    ]);
  });

  it("runs the API in the second region on its replicas, knowing the home region", () => {
    const [api] = functionIn(SECONDARY, "SecondaryApiFunction");
    expect(api?.inputs.name).toBe("coffer-production-api");
    expect(api?.inputs.environment.variables).toMatchObject({
      COFFER_TABLE: deployment.one("aws:dynamodb/table:Table").inputs.name,
      COFFER_KMS_KEY_ID: keyIn(SECONDARY),
      COFFER_HOME_REGION: REGION,
    });
    expect(deployment.outputs.secondaryUrl).toBe(`https://secondaryapiurl.lambda-url.${SECONDARY}.on.aws/`);
    expect(deployment.outputs.secondaryApiRoleArn).toEqual(roleArn("SecondaryApiRole"));
  });

  it("lets each API use both regions' tables and its own region's key, nothing wider", () => {
    for (const [role, region] of [
      ["ApiRole", REGION],
      ["SecondaryApiRole", SECONDARY],
    ] as const) {
      const policy = rolePolicy(role);
      expect(resourcesOf(policy, "dynamodb:PutItem")).toEqual(
        region === REGION ? [tableIn(REGION), tableIn(SECONDARY)] : [tableIn(SECONDARY), tableIn(REGION)],
      );
      expect(resourcesOf(policy, "kms:Decrypt")).toEqual([keyIn(region)]);
      expect(allowedActions(policy).filter((action) => action.startsWith("dynamodb:Scan"))).toEqual([]);
      const logs = `arn:aws:logs:${region}:${ACCOUNT}:log-group:/aws/lambda/coffer-production-api:*`;
      expect(wideningFindings(policy, [logs])).toEqual([]);
    }
  });

  it("runs the revoker in the home region only, on the home table, knowing it is home", () => {
    const revokers = deployment
      .of("aws:lambda/function:Function")
      .filter((fn) => fn.name.includes("Revoker"));
    expect(revokers.map((fn) => [fn.name, fn.region])).toEqual([["RevokerFunction", REGION]]);
    expect(revokers[0]?.inputs.environment.variables).toMatchObject({
      COFFER_KMS_KEY_ID: keyIn(REGION),
      COFFER_HOME_REGION: REGION,
    });
    expect(deployment.of("aws:scheduler/schedule:Schedule").map((s) => s.region)).toEqual([REGION]);
    expect(resourcesOf(rolePolicy("RevokerRole"), "dynamodb:PutItem")).toEqual([tableIn(REGION)]);
  });
});
