/**
 * The injector as `sst deploy` declares it, under Pulumi mocks (sst-harness.ts): its own
 * function behind its own URL, a role that can write its log and nothing else (no table,
 * no key), the broker's URL as the agents' address, and a webhook configuration for the
 * operator to apply that is valid against Kubernetes' schema.
 */
import { validate as validateWebhook } from "kubernetes-models/_schemas/IoK8sApiAdmissionregistrationV1MutatingWebhookConfiguration";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type SchemaCheck, unknownFields } from "../support/kubernetes-schema.ts";
import { allowedActions, type PolicyDocument, resourcesOf, wideningFindings } from "./least-privilege.ts";
import { ACCOUNT, type Deployment, deployUnderMocks, REGION } from "./sst-harness.ts";

let deployment: Deployment;
const PLATFORM_SETUP_MS = 360_000;
const IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/coffer:0.1.0";

beforeAll(async () => {
  deployment = await deployUnderMocks({
    stage: "production",
    env: {
      COFFER_TARGET_ROLES: "none",
      COFFER_INJECTOR_IMAGE: IMAGE,
      COFFER_INJECTOR_EXCLUDED_NAMESPACES: "kube-system,kube-public,platform",
    },
  });
}, PLATFORM_SETUP_MS);

const fn = () => deployment.one("aws:lambda/function:Function", "InjectorFunction").inputs;
const logStreams = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/coffer-production-injector:*`;

describe("the injector function", () => {
  it("runs its own bundle, 512 MB, with a timeout no longer than the webhook's", () => {
    expect(fn()).toMatchObject({
      name: "coffer-production-injector",
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 512,
      timeout: 5,
      handler: "injector.handler",
    });
    expect(fn().vpcConfig).toBeUndefined();
  });

  it("knows the broker's URL and the injector's settings, and nothing of the table or the key", () => {
    const variables = Object.fromEntries(
      Object.entries(fn().environment.variables as Record<string, string>).filter(
        ([name]) => !name.startsWith("SST_"),
      ),
    );
    expect(variables).toEqual({
      COFFER_INJECTOR_ADDRESS: (deployment.outputs.url as string).replace(/\/$/, ""),
      COFFER_INJECTOR_IMAGE: IMAGE,
      COFFER_INJECTOR_EXCLUDED_NAMESPACES: "kube-system,kube-public,platform",
    });
  });

  it("may write its own log and nothing else", () => {
    const policies = deployment.one("aws:iam/role:Role", "InjectorRole").inputs.inlinePolicies as {
      policy: string;
    }[];
    expect(policies).toHaveLength(1);
    const policy: PolicyDocument = JSON.parse(policies[0]!.policy);
    expect(allowedActions(policy)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(resourcesOf(policy, "logs:PutLogEvents")).toEqual([logStreams]);
    expect(wideningFindings(policy, [logStreams])).toEqual([]);
    const role = deployment.one("aws:iam/role:Role", "InjectorRole").inputs;
    expect(role.managedPolicyArns).toEqual([]);
  });

  it("is not among the key's users", () => {
    const keyPolicy = deployment.one("aws:kms/keyPolicy:KeyPolicy").inputs.policy as string;
    const injectorRole = deployment.one("aws:iam/role:Role", "InjectorRole").inputs.name as string;
    expect(keyPolicy).not.toContain(injectorRole);
  });

  it("is reachable through its own function URL", () => {
    const url = deployment.one("aws:lambda/functionUrl:FunctionUrl", "InjectorUrl").inputs;
    expect(url).toMatchObject({ authorizationType: "NONE", functionName: "coffer-production-injector" });
  });
});

describe("the webhook configuration it prints", () => {
  const webhookOf = () => parse(deployment.outputs.injectorWebhook as string);

  it("is a valid MutatingWebhookConfiguration with no unknown field", () => {
    expect(unknownFields(validateWebhook as SchemaCheck, webhookOf())).toEqual([]);
  });

  it("points at the injector's URL and never holds up system pods", () => {
    const [webhook] = webhookOf().webhooks;
    expect(webhook.clientConfig).toEqual({ url: "https://injectorurl.lambda-url.us-east-1.on.aws/" });
    expect(webhook).toMatchObject({
      failurePolicy: "Fail",
      timeoutSeconds: 5,
      sideEffects: "None",
      admissionReviewVersions: ["v1"],
      rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
    });
    expect(webhook.namespaceSelector.matchExpressions).toEqual([
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["kube-system", "kube-public", "kube-node-lease", "platform"],
      },
    ]);
  });
});
