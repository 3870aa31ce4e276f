/**
 * The MutatingWebhookConfiguration that points a cluster at the injector's function URL,
 * as `sst deploy` prints it (stacks/injector.ts). deploy/kubernetes/injector/webhook.yaml
 * is the same for the in-cluster injector, with a Service instead of a URL (a test keeps
 * the two in step).
 */

/** The API server waits at most this long; the function's timeout is the same. */
export const WEBHOOK_TIMEOUT_SECONDS = 5;
/** Never sent to the webhook, whatever the injector's own exclusions (Vault's and Kubernetes' system namespaces). */
export const WEBHOOK_EXCLUDED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"];

/** The MutatingWebhookConfiguration to apply to a cluster, for the function's URL. */
export function webhookConfiguration(url: string, excludedNamespaces: readonly string[]): string {
  const namespaces = [...new Set([...WEBHOOK_EXCLUDED_NAMESPACES, ...excludedNamespaces])];
  return [
    "apiVersion: admissionregistration.k8s.io/v1",
    "kind: MutatingWebhookConfiguration",
    "metadata:",
    "  name: coffer-injector",
    "webhooks:",
    "  - name: injector.coffer.dev",
    "    admissionReviewVersions: [v1]",
    "    sideEffects: None",
    "    # A pod the injector cannot answer for would start without its secrets: refuse it.",
    "    failurePolicy: Fail",
    `    timeoutSeconds: ${WEBHOOK_TIMEOUT_SECONDS}`,
    "    reinvocationPolicy: Never",
    "    clientConfig:",
    `      url: ${url}`,
    "    rules:",
    "      - operations: [CREATE]",
    '        apiGroups: [""]',
    "        apiVersions: [v1]",
    "        resources: [pods]",
    "        scope: Namespaced",
    "    # System pods never wait on the webhook, whatever happens to it.",
    "    namespaceSelector:",
    "      matchExpressions:",
    "        - key: kubernetes.io/metadata.name",
    "          operator: NotIn",
    `          values: [${namespaces.join(", ")}]`,
    '    # A pod labelled coffer.dev/inject: "false" is never sent, e.g. a cluster\'s own tooling.',
    "    objectSelector:",
    "      matchExpressions:",
    "        - key: coffer.dev/inject",
    "          operator: NotIn",
    '          values: ["false"]',
    "",
  ].join("\n");
}
