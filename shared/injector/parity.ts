/**
 * What Coffer's injector does with each annotation of Vault's injector (under either
 * prefix): reads it with Vault's meaning (supported), or does not act on it, and why.
 * A pod that uses one it does not act on is told, never half-injected in silence:
 *
 * - refused: the annotation changes what the application gets (a file, a listener, a
 *   command run for it), and Coffer cannot give it; the pod is not admitted, and the
 *   message names the annotation and the reason.
 * - ignored: the annotation tunes how Vault Agent itself runs, and the application sees
 *   no difference; the pod is injected with a warning naming it.
 *
 * Only a value that asks for something counts: `agent-cache-enable: "false"` or an empty
 * value is what Vault's injector does by default and passes silently. A name that is
 * none of these (a typo) is unknown, and warned about. docs/kubernetes.md prints the
 * whole table; a test keeps the two in step.
 */

/** Annotations the injector reads, by their name after the prefix. */
export const SUPPORTED_ANNOTATIONS: ReadonlySet<string> = new Set([
  "agent-inject",
  "agent-inject-status",
  "role",
  "auth-path",
  "auth-type",
  "auth-config-role",
  "secret-volume-path",
  "agent-pre-populate",
  "agent-pre-populate-only",
  "agent-init-first",
  "agent-inject-containers",
  "agent-run-as-user",
  "agent-run-as-group",
  "agent-run-as-same-user",
  "agent-set-security-context",
  "agent-share-process-namespace",
  "agent-limits-cpu",
  "agent-limits-mem",
  "agent-limits-ephemeral",
  "agent-requests-cpu",
  "agent-requests-mem",
  "agent-requests-ephemeral",
  "agent-image",
  "agent-inject-default-template",
  "agent-inject-token",
  "template-config-exit-on-retry-failure",
  "service",
  "preserve-secret-case",
  "template-static-secret-render-interval",
  "auth-min-backoff",
  "auth-max-backoff",
  // Written by Vault's injector itself (the pod's namespace), never read back.
  "agent-request-namespace",
  // Written by Coffer's injector (inject.ts).
  "agent-config",
  "agent-config-init",
  "agent-inject-warnings",
]);

/** Per-secret annotations the injector reads: `<base>-<secret name>`. */
export const PER_SECRET_ANNOTATIONS: readonly string[] = [
  "agent-inject-secret",
  "agent-inject-template",
  "agent-inject-file",
  "agent-inject-perms",
  "agent-inject-command",
  "agent-template-left-delim",
  "agent-template-right-delim",
  "secret-volume-path",
  "error-on-missing-key",
  "preserve-secret-case",
];

export type ParityEffect = "refused" | "ignored";

export interface UnsupportedAnnotation {
  /** The name after the prefix; a name ending in "-" covers `<name><suffix>` (per secret). */
  name: string;
  effect: ParityEffect;
  /** "flag": asks for something when true; "value": when not empty. */
  kind: "flag" | "value";
  reason: string;
}

const TLS =
  "the agent verifies the broker's certificate with the system's certificate authorities and presents no client certificate";

export const UNSUPPORTED_ANNOTATIONS: readonly UnsupportedAnnotation[] = [
  {
    name: "agent-inject-template-file-",
    effect: "refused",
    kind: "value",
    reason: "templates are read from the annotations only (agent-inject-template-<name>)",
  },
  {
    name: "agent-configmap",
    effect: "refused",
    kind: "value",
    reason: "the agent's configuration is generated from the annotations",
  },
  {
    name: "agent-extra-secret",
    effect: "refused",
    kind: "value",
    reason: "the generated configuration reads nothing from a mounted Secret",
  },
  {
    name: "agent-revoke-on-shutdown",
    effect: "refused",
    kind: "flag",
    reason:
      "the agent does not revoke its token when it stops: that would revoke the leases the application may still be draining with; the token expires at its TTL",
  },
  {
    name: "agent-cache-enable",
    effect: "refused",
    kind: "flag",
    reason: "the agent has no caching proxy for the application to call",
  },
  {
    name: "agent-enable-quit",
    effect: "refused",
    kind: "flag",
    reason:
      "the agent has no listener with a quit endpoint; as a native sidecar it stops by itself when the pod's containers end",
  },
  {
    name: "agent-json-patch",
    effect: "refused",
    kind: "value",
    reason: "the agent's containers are not patched after they are built",
  },
  {
    name: "agent-init-json-patch",
    effect: "refused",
    kind: "value",
    reason: "the agent's containers are not patched after they are built",
  },
  {
    name: "namespace",
    effect: "refused",
    kind: "value",
    reason: "Coffer has no Vault Enterprise namespaces",
  },
  {
    name: "proxy-address",
    effect: "refused",
    kind: "value",
    reason: "the agent connects to the broker directly",
  },
  {
    name: "tls-skip-verify",
    effect: "refused",
    kind: "flag",
    reason: "the agent always verifies the broker's certificate",
  },
  { name: "tls-secret", effect: "refused", kind: "value", reason: TLS },
  { name: "tls-server-name", effect: "refused", kind: "value", reason: TLS },
  { name: "ca-cert", effect: "refused", kind: "value", reason: TLS },
  { name: "ca-key", effect: "refused", kind: "value", reason: TLS },
  { name: "client-cert", effect: "refused", kind: "value", reason: TLS },
  { name: "client-key", effect: "refused", kind: "value", reason: TLS },
  {
    name: "auth-config-",
    effect: "refused",
    kind: "value",
    reason: "the kubernetes login takes only the role (auth-config-role) and Coffer's projected token",
  },
  { name: "log-level", effect: "ignored", kind: "value", reason: "the agent logs JSON lines at one level" },
  { name: "log-format", effect: "ignored", kind: "value", reason: "the agent logs JSON lines at one level" },
  { name: "go-max-procs", effect: "ignored", kind: "value", reason: "the agent is not a Go program" },
  {
    name: "client-max-retries",
    effect: "ignored",
    kind: "value",
    reason: "the agent retries with backoff (auth-min-backoff, auth-max-backoff)",
  },
  {
    name: "client-timeout",
    effect: "ignored",
    kind: "value",
    reason: "the agent's requests time out after 30 s",
  },
  {
    name: "agent-revoke-grace",
    effect: "ignored",
    kind: "value",
    reason: "the agent does not revoke its token when it stops",
  },
  {
    name: "agent-cache-use-auto-auth-token",
    effect: "ignored",
    kind: "value",
    reason: "the agent has no caching proxy",
  },
  {
    name: "agent-cache-listener-port",
    effect: "ignored",
    kind: "value",
    reason: "the agent has no caching proxy",
  },
  {
    name: "agent-cache-exit-on-err",
    effect: "ignored",
    kind: "value",
    reason: "the agent has no caching proxy",
  },
  {
    name: "agent-telemetry-",
    effect: "ignored",
    kind: "value",
    reason: "the agent reports through its log only",
  },
  {
    name: "agent-auto-auth-exit-on-err",
    effect: "ignored",
    kind: "value",
    reason:
      "a failed login is retried with backoff like any failure, and ends the agent once its retries have failed (template-config-exit-on-retry-failure)",
  },
  {
    name: "template-max-connections-per-host",
    effect: "ignored",
    kind: "value",
    reason: "the agent reads its secrets over a few connections at most",
  },
  {
    name: "template-lease-renewal-threshold",
    effect: "ignored",
    kind: "value",
    reason: "the agent renews a lease at two thirds of its duration",
  },
  {
    name: "agent-disable-idle-connections",
    effect: "ignored",
    kind: "value",
    reason: "the agent's connections are its runtime's",
  },
  {
    name: "agent-disable-keep-alives",
    effect: "ignored",
    kind: "value",
    reason: "the agent's connections are its runtime's",
  },
  {
    name: "agent-copy-volume-mounts",
    effect: "ignored",
    kind: "value",
    reason: "the generated configuration reads no file from the application's volumes",
  },
  {
    name: "agent-service-account-token-volume-name",
    effect: "ignored",
    kind: "value",
    reason: "the agent logs in with the projected token the injector mounts, for Coffer's audience",
  },
];

/** The entry that covers an annotation name (without its prefix), if any. */
function unsupportedAnnotation(name: string): UnsupportedAnnotation | undefined {
  return UNSUPPORTED_ANNOTATIONS.find((entry) =>
    entry.name.endsWith("-")
      ? name.startsWith(entry.name) && name.length > entry.name.length
      : name === entry.name,
  );
}

/** What the injector does with an annotation, by its name without the prefix. */
export function annotationParity(name: string): "supported" | "unknown" | UnsupportedAnnotation {
  if (SUPPORTED_ANNOTATIONS.has(name)) return "supported";
  // Before the per-secret names: agent-inject-template-file-<name> is one of these.
  const unsupported = unsupportedAnnotation(name);
  if (unsupported) return unsupported;
  return PER_SECRET_ANNOTATIONS.some((base) => name.startsWith(`${base}-`) && name.length > base.length + 1)
    ? "supported"
    : "unknown";
}
