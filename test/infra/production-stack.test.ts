/**
 * The production stage as `sst deploy --stage production` would declare it, run offline
 * under Pulumi mocks (sst-harness.ts): every security-relevant input of every resource.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SAFETY_MARGIN_MS } from "../../functions/revoker.ts";
import { allowedActions, type PolicyDocument, resourcesOf, wideningFindings } from "./least-privilege.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, REGION } from "./sst-harness.ts";

const TARGETS = `arn:aws:iam::${ACCOUNT}:role/coffer-targets/*`;
const SINGLE_TARGET = `arn:aws:iam::${ACCOUNT}:role/ci-deployer`;
const OPERATOR = `arn:aws:iam::${ACCOUNT}:role/coffer-operator`;
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/coffer-target-boundary`;
const KEY_ARN_PREFIX = `arn:aws:kms:${REGION}:${ACCOUNT}:key/`;

let deployment: Deployment;
const PLATFORM_SETUP_MS = 360_000;

beforeAll(async () => {
  deployment = await deployUnderMocks({
    stage: "production",
    env: {
      COFFER_TARGET_ROLES: `${TARGETS}, ${SINGLE_TARGET}`,
      COFFER_TARGET_ROLE_BOUNDARY: BOUNDARY,
      COFFER_KEY_USERS: OPERATOR,
      COFFER_CLUSTER_NAME: "prod-eu",
      COFFER_ALARM_EMAIL: "oncall@example.com",
    },
  });
}, PLATFORM_SETUP_MS);

const role = (name: string) => deployment.one("aws:iam/role:Role", name).inputs;
const rolePolicy = (name: string): PolicyDocument => {
  const policies = role(name).inlinePolicies as { name: string; policy: string }[];
  expect(policies).toHaveLength(1);
  return JSON.parse(policies[0]!.policy);
};
const fn = (name: string) => deployment.one("aws:lambda/function:Function", name).inputs;
const logStreams = (fnName: string) =>
  `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/coffer-production-${fnName}:*`;

const TABLE_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
];
const KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"];
const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"];
const REVOKE_ACTIONS = ["iam:DeleteRolePolicy", "iam:PutRolePolicy"];
const ASSUME_ACTIONS = ["sts:AssumeRole", "sts:TagSession"];

describe("storage", () => {
  it("is one pk/sk table, on demand, with TTL on expires_at and point-in-time recovery", () => {
    const table = deployment.one("aws:dynamodb/table:Table").inputs;
    expect(table).toMatchObject({
      hashKey: "pk",
      rangeKey: "sk",
      billingMode: "PAY_PER_REQUEST",
      ttl: { attributeName: "expires_at", enabled: true },
      pointInTimeRecovery: { enabled: true },
      streamEnabled: false,
    });
    expect(table.attributes).toEqual([
      { name: "pk", type: "S" },
      { name: "sk", type: "S" },
    ]);
    expect(table.globalSecondaryIndexes).toEqual([]);
  });

  it("is protected from deletion and retained when the stack goes", () => {
    const table = deployment.one("aws:dynamodb/table:Table");
    expect(table.inputs.deletionProtectionEnabled).toBe(true);
    expect(deployment.options.get(`aws:dynamodb/table:Table::${table.name}`)?.retainOnDelete).toBe(true);
    expect(deployment.app).toMatchObject({ removal: "retain", protect: true });
  });
});

describe("keys", () => {
  it("creates a symmetric key with yearly rotation, the longest deletion window, and an alias", () => {
    expect(deployment.one("aws:kms/key:Key").inputs).toMatchObject({
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      deletionWindowInDays: 30,
    });
    expect(deployment.options.get("aws:kms/key:Key::RootKey")?.retainOnDelete).toBe(true);
    expect(deployment.one("aws:kms/alias:Alias").inputs.name).toBe("alias/coffer-production");
  });

  it("lets only the broker's roles and the named key users wrap and unwrap, with Coffer's context", () => {
    const policy: PolicyDocument = JSON.parse(deployment.one("aws:kms/keyPolicy:KeyPolicy").inputs.policy);
    const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    const brokerRoles = [role("ApiRole").name, role("RevokerRole").name].map(
      (name) => `arn:aws:iam::${ACCOUNT}:role/${name}`,
    );
    expect(bySid.BrokerUsesTheKey).toMatchObject({
      Principal: { AWS: brokerRoles },
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Condition: { StringEquals: { "kms:EncryptionContext:app": "coffer" } },
    });
    expect(bySid.OperatorsUseTheKey).toMatchObject({
      Principal: { AWS: [OPERATOR] },
      // Encrypt too: import wraps an archive's keyring under this key.
      Action: ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
      Condition: { StringEquals: { "kms:EncryptionContext:app": "coffer" } },
    });

    const admin = bySid.AccountAdministersTheKey!;
    expect(admin.Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
    const adminActions = [admin.Action].flat() as string[];
    for (const use of [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:ReEncryptFrom",
      "kms:CreateGrant",
    ]) {
      expect(adminActions).not.toContain(use);
    }
    expect(adminActions.some((action) => action.includes("*"))).toBe(false);
  });
});

describe("api function", () => {
  it("runs the prebuilt bundle on Node.js 22, arm64, 512 MB, 10 s", () => {
    expect(fn("ApiFunction")).toMatchObject({
      name: "coffer-production-api",
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 512,
      timeout: 10,
      handler: "api.handler",
    });
    const build = deployment.rpcCalls.find(
      (c) => c.method === "Runtime.Build" && c.params.functionID === "Api",
    );
    expect(build?.params).toMatchObject({ handler: "api.handler", runtime: "nodejs22.x" });
    expect(build?.params.bundle).toMatch(/\/api$/);
  });

  it("is configured with the table, the key and the cluster name, and nothing secret", () => {
    const variables = fn("ApiFunction").environment.variables;
    expect(variables).toMatchObject({
      COFFER_TABLE: deployment.outputs.table,
      COFFER_KMS_KEY_ID: deployment.outputs.kmsKeyArn,
      COFFER_CLUSTER_NAME: "prod-eu",
    });
    expect(variables.COFFER_KMS_KEY_ID).toMatch(new RegExp(`^${KEY_ARN_PREFIX}`));
    expect(variables).not.toHaveProperty("COFFER_AWS_ENDPOINT");
  });

  it("is reachable over HTTPS through a function URL with no CORS, Vault tokens being the authorization", () => {
    const url = deployment.one("aws:lambda/functionUrl:FunctionUrl", "ApiUrl").inputs;
    expect(url).toMatchObject({
      authorizationType: "NONE",
      invokeMode: "BUFFERED",
      functionName: "coffer-production-api",
    });
    expect(url.cors).toBeUndefined();
    expect(deployment.outputs.url).toMatch(/^https:\/\//);
    const permissions = deployment.of("aws:lambda/permission:Permission").map((p) => p.inputs);
    expect(permissions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "lambda:InvokeFunctionUrl", functionUrlAuthType: "NONE" }),
        expect.objectContaining({ action: "lambda:InvokeFunction", invokedViaFunctionUrl: true }),
      ]),
    );
  });

  it("is the stage's ingress by default: no load balancer, firewall, certificate or DNS record", () => {
    for (const type of [
      "aws:lb/loadBalancer:LoadBalancer",
      "aws:wafv2/webAcl:WebAcl",
      "aws:acm/certificate:Certificate",
      "aws:route53/record:Record",
    ]) {
      expect(deployment.of(type)).toEqual([]);
    }
    expect(deployment.outputs.url).toBe(`https://apiurl.lambda-url.${REGION}.on.aws/`);
  });

  it("may use the table, the key with Coffer's context, its log group, and the target roles: nothing else", () => {
    const policy = rolePolicy("ApiRole");
    expect(allowedActions(policy)).toEqual(
      [...TABLE_ACTIONS, ...KEY_ACTIONS, ...LOG_ACTIONS, ...REVOKE_ACTIONS, ...ASSUME_ACTIONS].sort(),
    );
    for (const action of TABLE_ACTIONS)
      expect(resourcesOf(policy, action)).toEqual([
        `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${deployment.outputs.table}`,
      ]);
    for (const action of KEY_ACTIONS)
      expect(resourcesOf(policy, action)).toEqual([deployment.outputs.kmsKeyArn]);
    for (const action of LOG_ACTIONS) expect(resourcesOf(policy, action)).toEqual([logStreams("api")]);
    for (const action of [...ASSUME_ACTIONS, ...REVOKE_ACTIONS]) {
      expect(resourcesOf(policy, action)).toEqual([TARGETS, SINGLE_TARGET]);
    }
    const keyStatement = policy.Statement.find((s) => [s.Action].flat().includes("kms:Decrypt"));
    expect(keyStatement?.Condition).toEqual({ StringEquals: { "kms:EncryptionContext:app": ["coffer"] } });
    const statementOf = (action: string) => policy.Statement.find((s) => [s.Action].flat().includes(action));
    expect(statementOf("sts:AssumeRole")?.Condition).toBeUndefined();
    expect(statementOf("iam:PutRolePolicy")?.Condition).toEqual({
      StringEquals: { "iam:PermissionsBoundary": [BOUNDARY] },
    });
    expect(wideningFindings(policy, [logStreams("api"), TARGETS])).toEqual([]);
  });
});

describe("revoker", () => {
  it("runs every minute through EventBridge Scheduler, without retries, within a 60 s timeout", () => {
    const schedule = deployment.one("aws:scheduler/schedule:Schedule").inputs;
    expect(schedule).toMatchObject({
      scheduleExpression: "rate(1 minute)",
      state: "ENABLED",
      flexibleTimeWindow: { mode: "OFF" },
      target: { retryPolicy: { maximumRetryAttempts: 0 } },
    });
    expect(schedule.target.arn).toBe(
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:coffer-production-revoker`,
    );
    expect(fn("RevokerFunction")).toMatchObject({
      name: "coffer-production-revoker",
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 1769,
      timeout: 60,
      handler: "revoker.handler",
    });
    expect(fn("RevokerFunction").environment.variables).toMatchObject({
      COFFER_TABLE: deployment.outputs.table,
      COFFER_KMS_KEY_ID: deployment.outputs.kmsKeyArn,
      COFFER_CLUSTER_NAME: "prod-eu",
    });
  });

  it("may revoke on the target roles but never assume them", () => {
    const policy = rolePolicy("RevokerRole");
    expect(allowedActions(policy)).toEqual(
      [...TABLE_ACTIONS, ...KEY_ACTIONS, ...LOG_ACTIONS, ...REVOKE_ACTIONS].sort(),
    );
    for (const action of REVOKE_ACTIONS)
      expect(resourcesOf(policy, action)).toEqual([TARGETS, SINGLE_TARGET]);
    for (const action of LOG_ACTIONS) expect(resourcesOf(policy, action)).toEqual([logStreams("revoker")]);
    const revoke = policy.Statement.find((s) => [s.Action].flat().includes("iam:PutRolePolicy"));
    expect(revoke?.Condition).toEqual({ StringEquals: { "iam:PermissionsBoundary": [BOUNDARY] } });
    expect(wideningFindings(policy, [logStreams("revoker"), TARGETS])).toEqual([]);
  });

  it("is invoked by a scheduler role that can invoke the revoker alone, for this account only", () => {
    const scheduleRole = role("RevokerScheduleRole");
    expect(JSON.parse(scheduleRole.assumeRolePolicy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "scheduler.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ],
    });
    const policy = rolePolicy("RevokerScheduleRole");
    expect(allowedActions(policy)).toEqual(["lambda:InvokeFunction"]);
    expect(resourcesOf(policy, "lambda:InvokeFunction")).toEqual([
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:coffer-production-revoker`,
    ]);
  });
});

describe("function roles", () => {
  it("are trusted by the Lambda service alone: not the account root SST adds for sst dev", () => {
    for (const name of ["ApiRole", "RevokerRole"]) {
      expect(JSON.parse(role(name).assumeRolePolicy)).toEqual({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      });
    }
  });

  it("carry no managed policies (AWSLambdaBasicExecutionRole grants logs actions on every resource)", () => {
    for (const name of ["ApiRole", "RevokerRole"]) expect(role(name).managedPolicyArns).toEqual([]);
  });

  it("hold no wildcard action or resource anywhere, on any role of the stage", () => {
    const allowed = [logStreams("api"), logStreams("revoker"), logStreams("injector"), TARGETS];
    for (const recorded of deployment.of("aws:iam/role:Role")) {
      for (const { policy } of recorded.inputs.inlinePolicies ?? []) {
        expect({ role: recorded.name, findings: wideningFindings(JSON.parse(policy), allowed) }).toEqual({
          role: recorded.name,
          findings: [],
        });
      }
    }
  });

  it("would be caught if a statement were widened", () => {
    const policy = rolePolicy("ApiRole");
    const widen = (change: (statement: PolicyDocument["Statement"][number]) => void) => {
      const copy: PolicyDocument = structuredClone(policy);
      change(copy.Statement[0]!);
      return wideningFindings(copy, [logStreams("api"), TARGETS]);
    };
    expect(widen((s) => (s.Action = ["dynamodb:*"]))).toEqual(["statement 0: wildcard action dynamodb:*"]);
    expect(widen((s) => (s.Resource = ["*"]))).toContain('statement 0: every resource ("*")');
    const table = resourcesOf(policy, "dynamodb:GetItem")[0];
    expect(widen((s) => (s.Resource = [`${table}/index/*`]))).toEqual([
      `statement 0: wildcard resource ${table}/index/*`,
    ]);
    expect(widen((s) => (s.Action = [...TABLE_ACTIONS, "kms:Decrypt"]))).toEqual([
      `statement 0: kms:Decrypt on ${table}`,
    ]);
  });
});

describe("logs and alarms", () => {
  it("keeps each function's logs, audit records included, for a year on production", () => {
    const groups = deployment.of("aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs);
    expect(groups).toEqual([
      { name: "/aws/lambda/coffer-production-api", retentionInDays: 365 },
      { name: "/aws/lambda/coffer-production-revoker", retentionInDays: 365 },
      { name: "/aws/lambda/coffer-production-injector", retentionInDays: 365 },
    ]);
    for (const name of ["ApiFunction", "RevokerFunction"]) {
      expect(fn(name).loggingConfig.logGroup).toMatch(/^\/aws\/lambda\/coffer-production-/);
    }
    for (const g of deployment.of("aws:cloudwatch/logGroup:LogGroup")) {
      expect(deployment.options.get(`aws:cloudwatch/logGroup:LogGroup::${g.name}`)?.retainOnDelete).toBe(
        true,
      );
    }
  });

  it("alarms on a failing, stopped or saturated revoker, revocation lag and failures, API errors, 5xx rate, throttles and rejected items", () => {
    const alarms = Object.fromEntries(
      deployment.of("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.name, a.inputs]),
    );
    expect(Object.keys(alarms).sort()).toEqual([
      "ApiErrorsAlarm",
      "ApiServerErrorRateAlarm",
      "ApiThrottledAlarm",
      "ItemsRejectedAlarm",
      "RevocationFailuresAlarm",
      "RevocationLagAlarm",
      "RevokerFailingAlarm",
      "RevokerSaturatedAlarm",
      "RevokerStoppedAlarm",
      "TableThrottledAlarm",
    ]);
    const topic = deployment.outputs.alarmTopic;
    for (const alarm of Object.values(alarms)) expect(alarm.alarmActions).toEqual([topic]);
    expect(alarms.RevokerStoppedAlarm).toMatchObject({
      metricName: "Invocations",
      dimensions: { FunctionName: "coffer-production-revoker" },
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
    // A sweep lasts the timeout minus the revoker's margin when it runs out of budget.
    expect(alarms.RevokerSaturatedAlarm).toMatchObject({
      namespace: "AWS/Lambda",
      metricName: "Duration",
      statistic: "Minimum",
      threshold: fn("RevokerFunction").timeout * 1000 - SAFETY_MARGIN_MS,
      evaluationPeriods: 5,
    });
    // The metrics the revoker writes in its sweep report (functions/metrics.ts).
    expect(alarms.RevocationLagAlarm).toMatchObject({
      namespace: "Coffer/production",
      metricName: "RevocationLagMs",
      dimensions: { Function: "revoker" },
      statistic: "Maximum",
      threshold: 300_000,
    });
    expect(alarms.RevocationFailuresAlarm).toMatchObject({
      namespace: "Coffer/production",
      metricName: "RevocationFailures",
      dimensions: { Function: "revoker" },
    });
    const queries = (name: string) =>
      Object.fromEntries(alarms[name]!.metricQueries.map((q: { id: string }) => [q.id, q]));
    const rate = queries("ApiServerErrorRateAlarm");
    expect(rate.requests.metric).toMatchObject({
      namespace: "Coffer/production",
      metricName: "Requests",
      dimensions: { Function: "api" },
      stat: "Sum",
    });
    expect(rate.errors.metric).toMatchObject({ metricName: "ServerErrors", dimensions: { Function: "api" } });
    expect(rate.rate).toMatchObject({
      expression: "IF(requests >= 20, 100 * errors / requests, 0)",
      returnData: true,
    });
    expect(alarms.ApiServerErrorRateAlarm).toMatchObject({
      threshold: 5,
      comparisonOperator: "GreaterThanThreshold",
    });
    const throttled = queries("TableThrottledAlarm");
    for (const id of ["reads", "writes"]) {
      expect(throttled[id].metric.dimensions).toEqual({ TableName: deployment.outputs.table });
    }
    expect(throttled.throttled.expression).toBe("reads + writes");
    // Both functions write to the namespace the alarms read.
    for (const name of ["ApiFunction", "RevokerFunction"]) {
      expect(fn(name).environment.variables.COFFER_METRICS_NAMESPACE).toBe("Coffer/production");
    }
    // A rejected item is counted from the line both table readers log for it, in their own log groups.
    const filters = deployment.of("aws:cloudwatch/logMetricFilter:LogMetricFilter").map((f) => f.inputs);
    expect(filters.map((f) => f.logGroupName).sort()).toEqual([
      "/aws/lambda/coffer-production-api",
      "/aws/lambda/coffer-production-revoker",
    ]);
    for (const filter of filters) {
      expect(filter.pattern).toBe('{ $.message = "an item failed authentication and is treated as absent" }');
      expect(filter.metricTransformation).toMatchObject({
        namespace: "Coffer/production",
        name: "ItemsRejected",
      });
    }
    expect(alarms.ItemsRejectedAlarm).toMatchObject({
      namespace: "Coffer/production",
      metricName: "ItemsRejected",
      statistic: "Sum",
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    expect(deployment.one("aws:sns/topicSubscription:TopicSubscription").inputs).toMatchObject({
      protocol: "email",
      endpoint: "oncall@example.com",
    });
  });
});

describe("the stage as a whole", () => {
  it("declares exactly these AWS resources (docs/deploy.md states the count)", () => {
    const counts: Record<string, number> = {};
    for (const r of deployment.resources) {
      if (r.type.startsWith("aws:")) counts[r.type] = (counts[r.type] ?? 0) + 1;
    }
    expect(counts).toEqual({
      "aws:cloudwatch/logGroup:LogGroup": 3,
      "aws:cloudwatch/logMetricFilter:LogMetricFilter": 2,
      "aws:cloudwatch/metricAlarm:MetricAlarm": 10,
      "aws:dynamodb/table:Table": 1,
      "aws:iam/role:Role": 4,
      "aws:kms/alias:Alias": 1,
      "aws:kms/key:Key": 1,
      "aws:kms/keyPolicy:KeyPolicy": 1,
      "aws:lambda/function:Function": 3,
      "aws:lambda/functionUrl:FunctionUrl": 2,
      "aws:lambda/permission:Permission": 4,
      "aws:s3/bucketObjectv2:BucketObjectv2": 3,
      "aws:scheduler/schedule:Schedule": 1,
      "aws:sns/topic:Topic": 1,
      "aws:sns/topicSubscription:TopicSubscription": 1,
    });
  });

  it("outputs what an operator needs next", () => {
    expect(deployment.outputs).toMatchObject({
      url: expect.stringMatching(/^https:\/\//),
      table: expect.any(String),
      kmsKeyArn: expect.stringMatching(new RegExp(`^${KEY_ARN_PREFIX}`)),
      apiFunction: "coffer-production-api",
      apiRoleArn: `arn:aws:iam::${ACCOUNT}:role/${role("ApiRole").name}`,
      revokerFunction: "coffer-production-revoker",
      alarmTopic: expect.any(String),
    });
  });
});
