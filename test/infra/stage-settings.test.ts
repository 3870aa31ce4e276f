/**
 * The stage configuration is read and checked before anything is declared: these are the
 * mistakes an operator can make in COFFER_* variables, each refused with a message that
 * names the variable, all of them at once.
 */
import { describe, expect, it } from "vitest";
import { rootKeyPolicy } from "../../stacks/key-policy.ts";
import { readStageSettings, removalPolicy, StageSettingsError } from "../../stacks/stage-settings.ts";
import { parseTargetRoles, targetRoleProblem } from "../../stacks/target-roles.ts";

const ROLE = "arn:aws:iam::123456789012:role/ci-deployer";
const PATH = "arn:aws:iam::123456789012:role/coffer-targets/*";
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d";

function problemsOf(stage: string, env: Record<string, string>): readonly string[] {
  try {
    readStageSettings(stage, env);
  } catch (error) {
    expect(error).toBeInstanceOf(StageSettingsError);
    return (error as StageSettingsError).problems;
  }
  throw new Error("expected the settings to be refused");
}

describe("stage settings", () => {
  it("deploys a development stage with nothing configured: no target roles, a new key, two weeks of logs, a function URL", () => {
    expect(readStageSettings("dev", {})).toEqual({
      stage: "dev",
      production: false,
      targetRoles: [],
      logRetentionDays: 14,
      ingress: { kind: "function-url" },
    });
  });

  it("treats production and prod as production stages, and any stage marked COFFER_PRODUCTION=true", () => {
    expect(readStageSettings("production", { COFFER_TARGET_ROLES: "none" })).toMatchObject({
      production: true,
      logRetentionDays: 365,
    });
    expect(readStageSettings("prod", { COFFER_TARGET_ROLES: "none" }).production).toBe(true);
    expect(
      readStageSettings("eu", { COFFER_PRODUCTION: "true", COFFER_TARGET_ROLES: "none" }).production,
    ).toBe(true);
    expect(readStageSettings("staging", { COFFER_PRODUCTION: "false" }).production).toBe(false);
  });

  it("retains and protects production stages, until COFFER_CONFIRM_REMOVE names the stage", () => {
    expect(removalPolicy("dev", {})).toEqual({ removal: "remove", protect: false });
    expect(removalPolicy("production", {})).toEqual({ removal: "retain", protect: true });
    expect(removalPolicy("eu", { COFFER_PRODUCTION: "true" })).toEqual({ removal: "retain", protect: true });
    expect(removalPolicy("production", { COFFER_CONFIRM_REMOVE: "prod" }).protect).toBe(true);
    expect(removalPolicy("production", { COFFER_CONFIRM_REMOVE: "production" })).toEqual({
      removal: "retain",
      protect: false,
    });
  });

  it("refuses a production stage whose target roles are unset rather than silently dropping them", () => {
    expect(problemsOf("production", {})).toEqual([
      expect.stringMatching(/^COFFER_TARGET_ROLES must be set on a production stage/),
    ]);
    expect(problemsOf("eu", { COFFER_PRODUCTION: "true" })).toHaveLength(1);
  });

  it("refuses to unmark a production stage, and flags that are not true or false", () => {
    expect(problemsOf("production", { COFFER_PRODUCTION: "false", COFFER_TARGET_ROLES: "none" })).toEqual([
      'COFFER_PRODUCTION: the "production" stage is always a production stage',
    ]);
    expect(problemsOf("dev", { COFFER_PRODUCTION: "yes" })).toEqual([
      'COFFER_PRODUCTION: "yes" must be true or false',
    ]);
  });

  it("reads target roles: ARNs and path patterns, trimmed, without duplicates", () => {
    const settings = readStageSettings("dev", { COFFER_TARGET_ROLES: ` ${ROLE} ,${PATH},${ROLE}, ` });
    expect(settings.targetRoles).toEqual([ROLE, PATH]);
    expect(readStageSettings("dev", { COFFER_TARGET_ROLES: "none" }).targetRoles).toEqual([]);
  });

  it("reads the permissions boundary target roles must carry", () => {
    const boundary = "arn:aws:iam::123456789012:policy/boundaries/coffer-target";
    expect(readStageSettings("dev", { COFFER_TARGET_ROLE_BOUNDARY: boundary }).targetRoleBoundary).toBe(
      boundary,
    );
    expect(problemsOf("dev", { COFFER_TARGET_ROLE_BOUNDARY: "arn:aws:iam::123456789012:role/x" })).toEqual([
      expect.stringMatching(/^COFFER_TARGET_ROLE_BOUNDARY: .* is not a managed policy ARN/),
    ]);
  });

  it("reads an existing key, key users, a cluster name, an alarm email and a retention", () => {
    expect(
      readStageSettings("dev", {
        COFFER_KMS_KEY_ARN: KEY,
        COFFER_CLUSTER_NAME: "prod-eu.1",
        COFFER_ALARM_EMAIL: "oncall@example.com",
        COFFER_LOG_RETENTION_DAYS: "0",
      }),
    ).toMatchObject({
      existingKeyArn: KEY,
      clusterName: "prod-eu.1",
      alarmEmail: "oncall@example.com",
      logRetentionDays: 0,
    });
    expect(
      readStageSettings("dev", { COFFER_KEY_USERS: `${ROLE}, arn:aws:iam::123456789012:user/alice` })
        .keyUsers,
    ).toEqual([ROLE, "arn:aws:iam::123456789012:user/alice"]);
    expect(readStageSettings("dev", { COFFER_KEY_USERS: "none" }).keyUsers).toEqual([]);
    const multiRegion = "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef";
    expect(readStageSettings("dev", { COFFER_KMS_KEY_ARN: multiRegion }).existingKeyArn).toBe(multiRegion);
  });

  it("reads whether audit records hash numbers and booleans too", () => {
    expect(readStageSettings("dev", {}).auditHashNonStrings).toBeUndefined();
    expect(readStageSettings("dev", { COFFER_AUDIT_HASH_NON_STRINGS: "true" }).auditHashNonStrings).toBe(
      true,
    );
    expect(
      readStageSettings("dev", { COFFER_AUDIT_HASH_NON_STRINGS: "false" }).auditHashNonStrings,
    ).toBeUndefined();
    expect(problemsOf("dev", { COFFER_AUDIT_HASH_NON_STRINGS: "yes" })).toEqual([
      'COFFER_AUDIT_HASH_NON_STRINGS: "yes" must be true or false',
    ]);
  });

  it("reads whether the broker functions are traced: off unless true, anything else refused", () => {
    expect(readStageSettings("dev", {}).tracing).toBeUndefined();
    expect(readStageSettings("dev", { COFFER_TRACING: "false" }).tracing).toBeUndefined();
    expect(readStageSettings("dev", { COFFER_TRACING: "true" }).tracing).toBe(true);
    for (const value of ["yes", "1", "TRUE", "active"]) {
      expect(problemsOf("dev", { COFFER_TRACING: value })).toEqual([
        `COFFER_TRACING: "${value}" must be true or false`,
      ]);
    }
  });

  it("names every problem at once, each with its variable", () => {
    const problems = problemsOf("dev", {
      COFFER_TARGET_ROLES: "arn:aws:iam::123456789012:role/*",
      COFFER_KMS_KEY_ARN: "arn:aws:kms:eu-west-1:123456789012:alias/coffer",
      COFFER_KEY_USERS: "arn:aws:iam::123456789012:role/ops-*",
      COFFER_CLUSTER_NAME: "prod eu",
      COFFER_ALARM_EMAIL: "oncall",
      COFFER_LOG_RETENTION_DAYS: "10",
    });
    expect(problems.map((problem) => problem.split(/[: ]/)[0])).toEqual([
      "COFFER_TARGET_ROLES",
      "COFFER_KMS_KEY_ARN",
      "COFFER_KEY_USERS",
      "COFFER_KEY_USERS",
      "COFFER_CLUSTER_NAME",
      "COFFER_ALARM_EMAIL",
      "COFFER_LOG_RETENTION_DAYS",
    ]);
    expect(problems[0]).toContain("every role in the account");
    expect(problems[1]).toContain("aliases cannot carry IAM permissions");
    expect(problems[3]).toContain("an existing key keeps its own key policy");
    const error = new StageSettingsError(problems);
    expect(error.message.split("\n")).toHaveLength(problems.length + 1);
  });

  it("refuses stage names that cannot prefix a function name", () => {
    expect(problemsOf("a".repeat(41), {})[0]).toMatch(/must be 1 to 40 letters/);
    expect(problemsOf("dev_1", {})[0]).toMatch(/the stage name "dev_1"/);
  });
});

describe("target roles", () => {
  it.each([
    ROLE,
    PATH,
    "arn:aws:iam::123456789012:role/team/service/deploy",
    "arn:aws:iam::123456789012:role/team/service/*",
    "arn:aws-cn:iam::123456789012:role/x",
    "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f_g-h",
  ])("accepts %s", (entry) => {
    expect(targetRoleProblem(entry)).toBeUndefined();
  });

  it.each([
    ["*", "every role in the account"],
    ["arn:aws:iam::123456789012:role/*", "every role in the account"],
    ["arn:aws:iam::*:role/coffer/*", "wildcard"],
    ["arn:aws:iam::123456789012:role/coffer-*", "wildcard"],
    ["arn:aws:iam::123456789012:role/team/*/deploy", "wildcard"],
    ["arn:aws:iam::123456789012:role/deploy?", "wildcard"],
    ["arn:aws:iam::123456789012:user/alice", "not an IAM role ARN"],
    ["arn:aws:s3:::bucket", "not an IAM role ARN"],
    ["arn:aws:iam::12345:role/x", "not an IAM role ARN"],
    ["ci-deployer", "not an IAM role ARN"],
    ["arn:aws:iam::123456789012:role/", "not an IAM role ARN"],
    ["arn:aws:iam::123456789012:role/a//b", "not an IAM role ARN"],
  ])("refuses %s (%s)", (entry, reason) => {
    expect(targetRoleProblem(entry)).toContain(reason);
  });

  it("refuses an empty list and none mixed with roles", () => {
    expect(parseTargetRoles(" , ").problems).toEqual(['an empty list: name the roles, or write "none"']);
    expect(parseTargetRoles(`none,${ROLE}`).problems).toEqual([
      expect.stringContaining('"none" is not an IAM role ARN'),
    ]);
  });
});

describe("key policy", () => {
  const input = {
    accountRoot: "arn:aws:iam::123456789012:root",
    brokerRoleArns: ["arn:aws:iam::123456789012:role/api", "arn:aws:iam::123456789012:role/revoker"],
  };
  const statements = (keyUsers?: string[]) =>
    Object.fromEntries(
      JSON.parse(rootKeyPolicy({ ...input, ...(keyUsers && { keyUsers }) })).Statement.map(
        (s: { Sid: string }) => [s.Sid, s],
      ),
    );

  it("leaves use of the key to the account's IAM policies by default, as KMS does", () => {
    expect(statements().OperatorsUseTheKey.Principal).toEqual({ AWS: [input.accountRoot] });
  });

  it("narrows use to the broker and the named users, or to the broker alone", () => {
    expect(statements([ROLE]).OperatorsUseTheKey.Principal).toEqual({ AWS: [ROLE] });
    expect(Object.keys(statements([]))).toEqual(["AccountAdministersTheKey", "BrokerUsesTheKey"]);
  });
});
