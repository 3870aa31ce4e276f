/**
 * The in-cluster injector's manifests (deploy/kubernetes/injector/) against Kubernetes'
 * schemas, strictly, and against the injector itself: the pod passes the restricted Pod
 * Security Standard, the probes and the webhook call the paths the server serves, the
 * Service reaches the container's port, the budget covers the Deployment, and the webhook
 * never sends the injector's own pods or the system's, with the same rules as the
 * configuration `sst deploy` prints.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validate as validateWebhook } from "kubernetes-models/_schemas/IoK8sApiAdmissionregistrationV1MutatingWebhookConfiguration";
import { validate as validateDeployment } from "kubernetes-models/_schemas/IoK8sApiAppsV1Deployment";
import { validate as validateNamespace } from "kubernetes-models/_schemas/IoK8sApiCoreV1Namespace";
import { validate as validateService } from "kubernetes-models/_schemas/IoK8sApiCoreV1Service";
import { validate as validateServiceAccount } from "kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount";
import { validate as validateBudget } from "kubernetes-models/_schemas/IoK8sApiPolicyV1PodDisruptionBudget";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { HEALTH_PATH, parseListen } from "../../../cli/injector-server.ts";
import { WEBHOOK_PATH } from "../../../shared/injector/admission-http.ts";
import { webhookConfiguration } from "../../../shared/injector/webhook-configuration.ts";
import { type SchemaCheck, unknownFields } from "../../support/kubernetes-schema.ts";
import { restrictedViolations } from "../../support/pod-security.ts";

const DIRECTORY = new URL("../../../deploy/kubernetes/injector/", import.meta.url).pathname;
// biome-ignore lint/suspicious/noExplicitAny: manifests are read by path and checked by value
type Manifest = any;

const SCHEMAS: Record<string, SchemaCheck> = {
  Namespace: validateNamespace as SchemaCheck,
  ServiceAccount: validateServiceAccount as SchemaCheck,
  Deployment: validateDeployment as SchemaCheck,
  Service: validateService as SchemaCheck,
  PodDisruptionBudget: validateBudget as SchemaCheck,
  MutatingWebhookConfiguration: validateWebhook as SchemaCheck,
};

const manifests: Manifest[] = readdirSync(DIRECTORY)
  .filter((file) => file.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIRECTORY, file), "utf8")).map((document) => document.toJS()),
  );
const byKind = (kind: string): Manifest => manifests.find((manifest) => manifest.kind === kind);

describe("deploy/kubernetes/injector", () => {
  it("holds the namespace, its service account, the Deployment, Service, budget and webhook", () => {
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(Object.keys(SCHEMAS).sort());
  });

  it.each(manifests.map((manifest) => [manifest.kind, manifest]))(
    "%s is valid against the Kubernetes schema, with no unknown field",
    (kind, manifest) => {
      expect(unknownFields(SCHEMAS[kind as string] as SchemaCheck, manifest)).toEqual([]);
    },
  );

  const deployment = byKind("Deployment");
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it("runs under the restricted Pod Security Standard, without an API token", () => {
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(byKind("Namespace").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("listens where the Service and the probes look, and serves the webhook's path", () => {
    const args: string[] = container.command;
    expect(args.slice(0, 2)).toEqual(["coffer", "injector"]);
    const listen = parseListen(args[args.indexOf("--listen") + 1] as string);
    const port = container.ports.find((candidate: Manifest) => candidate.name === "webhook");
    expect(port.containerPort).toBe(listen?.port);
    expect(byKind("Service").spec.ports[0].targetPort).toBe("webhook");
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: HEALTH_PATH, port: "webhook", scheme: "HTTPS" });
    }
    const mount = container.volumeMounts[0].mountPath;
    expect(args[args.indexOf("--tls-cert") + 1]).toBe(`${mount}/tls.crt`);
    expect(args[args.indexOf("--tls-key") + 1]).toBe(`${mount}/tls.key`);
  });

  it("keeps one replica through a disruption", () => {
    const budget = byKind("PodDisruptionBudget");
    expect(deployment.spec.replicas).toBeGreaterThan(1);
    expect(budget.spec.minAvailable).toBe(1);
    expect(budget.spec.selector).toEqual(deployment.spec.selector);
  });

  it("sends pods to the Service's webhook path, never its own namespace's or the system's", () => {
    const [webhook] = byKind("MutatingWebhookConfiguration").webhooks;
    const service = byKind("Service");
    expect(webhook.clientConfig.service).toEqual({
      namespace: service.metadata.namespace,
      name: service.metadata.name,
      path: WEBHOOK_PATH,
      port: service.spec.ports[0].port,
    });
    expect(webhook.namespaceSelector.matchExpressions[0].values).toEqual(
      expect.arrayContaining([
        "kube-system",
        "kube-public",
        "kube-node-lease",
        deployment.metadata.namespace,
      ]),
    );
  });

  it("has the rules, policy and selectors of the configuration sst deploy prints", () => {
    const [inCluster] = byKind("MutatingWebhookConfiguration").webhooks;
    const [lambda] = parse(webhookConfiguration("https://example.lambda-url.on.aws/", [])).webhooks;
    const { clientConfig: _a, namespaceSelector: _b, ...rest } = inCluster;
    const { clientConfig: _c, namespaceSelector: _d, ...lambdaRest } = lambda;
    expect(rest).toEqual(lambdaRest);
  });
});
