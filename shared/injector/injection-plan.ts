/**
 * From a pod's annotations to what to inject: the agent's login and secrets, which
 * containers get the secrets, how the agent runs. Vault's injector's meanings and
 * defaults, except where docs/kubernetes.md lists a difference; an annotation Coffer
 * cannot honour refuses the pod (AnnotationError) or warns (parity.ts).
 */
import {
  type Annotation,
  AnnotationError,
  type AnnotationReader,
  parseGoBool,
  parseGoDuration,
  readBool,
} from "./annotations.ts";
import type { AgentResources, InjectorOptions } from "./injector-options.ts";
import { isHttpUrl } from "./injector-options.ts";
import type { Pod } from "./kubernetes.ts";
import { unsupportedAnnotation } from "./parity.ts";

/** Vault's injector's default secret-volume-path. */
export const DEFAULT_SECRET_VOLUME_PATH = "/vault/secrets";
/** Vault's injector's default user and group for the agent, when the application's are unknown. */
export const VAULT_AGENT_USER = 100;
export const VAULT_AGENT_GROUP = 1000;
/** The only mode the agent writes secret files with. */
export const AGENT_FILE_MODE = 0o600;

export interface SecretFile {
  /** The secret's name in its annotations (agent-inject-secret-<name>). */
  name: string;
  /** The API path read, when the pod names one (agent-inject-secret-<name>). */
  path?: string;
  /** agent-inject-template-<name>, in the agent's template language. */
  template?: string;
  /** The file the agent writes. */
  destination: string;
  /** The directory the file's volume is mounted at. */
  mountPath: string;
}

export interface InjectionPlan {
  address: string;
  /** The auth mount, without "auth/". */
  authMount: string;
  role: string;
  secrets: SecretFile[];
  /** template-static-secret-render-interval: how often secrets without a lease are read again. */
  refreshIntervalMs?: number;
  backoff: { initialMs?: number; maxMs?: number };
  prePopulate: boolean;
  prePopulateOnly: boolean;
  initFirst: boolean;
  /** The application containers the secrets are mounted into. */
  containers: string[];
  image: string;
  /** Who the agent runs as; undefined with agent-set-security-context "false". */
  runAs?: { user: number; group: number };
  resources: AgentResources;
  shareProcessNamespace?: boolean;
  warnings: string[];
}

/** Annotations read here; anything else under the prefixes is checked against parity.ts. */
const KNOWN = new Set([
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
  "service",
  "preserve-secret-case",
  "template-static-secret-render-interval",
  "auth-min-backoff",
  "auth-max-backoff",
  // Written by Vault's injector itself, never read back.
  "agent-request-namespace",
  // Written by Coffer's injector (inject.ts).
  "agent-config",
  "agent-inject-warnings",
]);
/** Per-secret annotations: `<name>-<secret>`. */
const PER_SECRET = [
  "agent-inject-secret",
  "agent-inject-template",
  "agent-inject-file",
  "agent-inject-perms",
  "secret-volume-path",
  "error-on-missing-key",
  "preserve-secret-case",
];

/** Kubernetes' resource quantity syntax (resource.ParseQuantity), non-negative. */
const QUANTITY =
  /^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A path normalized as POSIX does it, for the escape check below. */
function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function uid(annotation: Annotation): number {
  const value = Number(annotation.value.trim());
  if (!/^\d+$/.test(annotation.value.trim()) || !Number.isSafeInteger(value) || value > 2 ** 31 - 1) {
    throw new AnnotationError(`${annotation.key}: "${annotation.value}" is not a user or group id`);
  }
  return value;
}

function readSecrets(reader: AnnotationReader, warnings: string[]): SecretFile[] {
  const secretPaths = reader.withPrefix("agent-inject-secret");
  // agent-inject-template-file-<name> is a template file (parity.ts), not a template named "file-<name>".
  const templates = new Map(
    [...reader.withPrefix("agent-inject-template")].filter(([name]) => !name.startsWith("file-")),
  );
  const rawNames = new Set(
    [...secretPaths, ...templates]
      .filter(([, annotation]) => annotation.value.trim() !== "")
      .map(([name]) => name),
  );
  const defaultVolumePath = reader.get("secret-volume-path")?.value.trim() || DEFAULT_SECRET_VOLUME_PATH;
  const perSecret = (base: string, raw: string) => reader.get(`${base}-${raw}`);
  const secrets: SecretFile[] = [];
  const untemplated: string[] = [];
  for (const raw of [...rawNames].sort()) {
    const preserve = perSecret("preserve-secret-case", raw) ?? reader.get("preserve-secret-case");
    const name = preserve && parseGoBool(preserve) ? raw : raw.toLowerCase();
    const mountPath = perSecret("secret-volume-path", raw)?.value.trim() || defaultVolumePath;
    if (!mountPath.startsWith("/")) {
      throw new AnnotationError(`secret-volume-path for "${raw}": "${mountPath}" is not an absolute path`);
    }
    const file = perSecret("agent-inject-file", raw)?.value.trim();
    const destination = normalizePath(`${mountPath}/${file || name}`);
    const volume = normalizePath(mountPath);
    if (!destination.startsWith(`${volume === "/" ? "" : volume}/`) || destination === volume) {
      throw new AnnotationError(
        `the file for secret "${raw}" (${file || name}) is outside its volume ${mountPath}: name a file inside it`,
      );
    }
    const errorOnMissingKey = perSecret("error-on-missing-key", raw);
    // The agent always refuses a missing field: true is what it does; false is validated only.
    if (errorOnMissingKey) parseGoBool(errorOnMissingKey);
    const perms = perSecret("agent-inject-perms", raw);
    if (perms) {
      const text = perms.value.trim();
      if (!/^0?[0-7]{3}$/.test(text)) {
        throw new AnnotationError(`${perms.key}: "${perms.value}" is not a file mode such as "0400"`);
      }
      if ((Number.parseInt(text, 8) & 0o077) !== 0) {
        warnings.push(
          `${perms.key}: ${text} lets other users read the file, but the agent writes every file with mode 0600: only the agent's user (the application's, see agent-run-as-user) can read it`,
        );
      }
    }
    const path = secretPaths.get(raw)?.value.trim();
    const template = templates.get(raw)?.value;
    const secret: SecretFile = { name, destination, mountPath: volume };
    if (path) secret.path = path.replace(/^\/+/, "");
    if (template !== undefined && template.trim() !== "") secret.template = template;
    else untemplated.push(secretPaths.get(raw)?.key ?? raw);
    secrets.push(secret);
  }
  const destinations = secrets.map((secret) => secret.destination);
  const duplicate = destinations.find((destination, index) => destinations.indexOf(destination) !== index);
  if (duplicate) throw new AnnotationError(`more than one secret is written to ${duplicate}`);
  if (untemplated.length > 0) {
    const defaultTemplate = reader.get("agent-inject-default-template")?.value.trim().toLowerCase() || "map";
    warnings.push(
      `${untemplated.join(", ")}: without a template, Coffer's agent writes the secret's fields as a JSON object; Vault's injector writes ${
        defaultTemplate === "json" ? "the whole response data as JSON" : "Go's map text"
      } (agent-inject-default-template: ${defaultTemplate})`,
    );
  }
  return secrets;
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity's value, to compare a request with its limit (exact enough for that). */
export function quantityValue(quantity: string): number {
  const match = /^\+?([0-9.]+)([eE][+-]?[0-9.]+|[A-Za-z]*)$/.exec(quantity);
  if (!match) return Number.NaN;
  const [, number, suffix = ""] = match;
  if (/^[eE]/.test(suffix)) return Number(`${number}${suffix}`);
  return Number(number) * (QUANTITY_SUFFIXES[suffix] ?? Number.NaN);
}

function readResources(reader: AnnotationReader, defaults: AgentResources): AgentResources {
  const resources: AgentResources = { requests: { ...defaults.requests }, limits: { ...defaults.limits } };
  const names = { cpu: "cpu", mem: "memory", ephemeral: "ephemeral-storage" } as const;
  const given = new Map<string, Annotation>();
  for (const kind of ["limits", "requests"] as const) {
    for (const [suffix, resource] of Object.entries(names)) {
      const annotation = reader.get(`agent-${kind}-${suffix}`);
      if (annotation === undefined) continue;
      given.set(`${kind}/${resource}`, annotation);
      const value = annotation.value.trim();
      // An empty value takes the limit or request away, as in Vault's injector.
      if (value === "") delete resources[kind][resource];
      else if (QUANTITY.test(value)) resources[kind][resource] = value;
      else
        throw new AnnotationError(
          `${annotation.key}: "${annotation.value}" is not a quantity such as "250m" or "64Mi"`,
        );
    }
  }
  // Kubernetes refuses a request above its limit. A default request above a limit the
  // pod lowered comes down to the limit; a request the pod asked for is the pod's mistake.
  for (const [resource, limit] of Object.entries(resources.limits)) {
    const request = resources.requests[resource];
    if (request === undefined || quantityValue(request) <= quantityValue(limit)) continue;
    const asked = given.get(`requests/${resource}`);
    if (asked) {
      throw new AnnotationError(
        `${asked.key}: ${request} is above the limit ${limit}, which Kubernetes refuses`,
      );
    }
    resources.requests[resource] = limit;
  }
  return resources;
}

/** The application's user and group where the pod spec says them: the first chosen container's, else the pod's. */
function applicationIds(pod: Pod, containers: string[]) {
  const first = pod.spec.containers.find((container) => containers.includes(container.name));
  return {
    user: first?.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser,
    group: first?.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup,
  };
}

function readRunAs(reader: AnnotationReader, pod: Pod, containers: string[], warnings: string[]) {
  if (!readBool(reader, "agent-set-security-context", true)) return undefined;
  const app = applicationIds(pod, containers);
  const userAnnotation = reader.get("agent-run-as-user");
  const groupAnnotation = reader.get("agent-run-as-group");
  let user: number | undefined = userAnnotation && uid(userAnnotation);
  if (readBool(reader, "agent-run-as-same-user", false)) {
    const first = pod.spec.containers[0];
    const same = first?.securityContext?.runAsUser;
    if (same === undefined) {
      throw new AnnotationError(
        "agent-run-as-same-user: the first container has no securityContext.runAsUser to run the agent as",
      );
    }
    user = same;
  }
  if (user === undefined) {
    user = app.user ?? VAULT_AGENT_USER;
    if (app.user === undefined) {
      warnings.push(
        `the pod spec does not say which user the application runs as: the agent runs as ${VAULT_AGENT_USER} and writes its files with mode 0600, which the application can read only as that user (set runAsUser, or agent-run-as-user)`,
      );
    }
  }
  if (user === 0)
    throw new AnnotationError("the agent does not run as root (user 0): choose another agent-run-as-user");
  const others = pod.spec.containers.filter((container) => {
    const own = container.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
    return containers.includes(container.name) && own !== undefined && own !== user;
  });
  if (others.length > 0) {
    const names = others.map((container) => container.name).join(", ");
    warnings.push(
      `the agent runs as ${user} and writes its files with mode 0600: ${names} run${others.length === 1 ? "s" : ""} as another user and cannot read them`,
    );
  }
  const group = groupAnnotation ? uid(groupAnnotation) : (app.group ?? VAULT_AGENT_GROUP);
  return { user, group };
}

/** Annotations under the prefixes that this injector does not read: refused, warned about, or unknown. */
function checkParity(reader: AnnotationReader, warnings: string[]): void {
  const refused: string[] = [];
  for (const [name, annotation] of reader.names()) {
    if (KNOWN.has(name)) continue;
    // Before the per-secret names: agent-inject-template-file-<name> is one of these.
    const entry = unsupportedAnnotation(name);
    if (!entry) {
      if (!PER_SECRET.some((base) => name.startsWith(`${base}-`))) {
        warnings.push(`${annotation.key} is not an annotation of the injector: ignored`);
      }
      continue;
    }
    const active = entry.kind === "flag" ? parseGoBool(annotation) : annotation.value.trim() !== "";
    if (!active) continue;
    if (entry.effect === "refused") refused.push(`${annotation.key} is not supported: ${entry.reason}`);
    else warnings.push(`${annotation.key} is ignored: ${entry.reason}`);
  }
  if (refused.length > 0) throw new AnnotationError(refused.join("; "));
}

export function planInjection(pod: Pod, reader: AnnotationReader, options: InjectorOptions): InjectionPlan {
  const warnings: string[] = [];
  checkParity(reader, warnings);

  const authType = reader.get("auth-type");
  if (authType && authType.value.trim() !== "" && authType.value.trim() !== "kubernetes") {
    throw new AnnotationError(
      `${authType.key}: "${authType.value}" is not supported: the agent logs in with kubernetes`,
    );
  }
  const role = (reader.get("role") ?? reader.get("auth-config-role"))?.value.trim();
  if (!role)
    throw new AnnotationError("no role: set the role annotation (the auth/kubernetes role to log in with)");
  const authPath = reader.get("auth-path")?.value.trim() || options.authPath;
  const authMount = authPath.replace(/^\/+|\/+$/g, "").replace(/^auth\//, "");
  if (authMount === "") throw new AnnotationError(`auth-path: "${authPath}" names no auth mount`);

  const service = reader.get("service");
  const address = service?.value.trim() || options.address;
  if (!address) {
    throw new AnnotationError("no broker address: set the service annotation, or the injector's address");
  }
  if (!isHttpUrl(address))
    throw new AnnotationError(`${service?.key ?? "address"}: "${address}" is not an http(s) URL`);

  const defaultTemplate = reader.get("agent-inject-default-template");
  if (defaultTemplate && !["map", "json"].includes(defaultTemplate.value.trim().toLowerCase())) {
    throw new AnnotationError(`${defaultTemplate.key}: "${defaultTemplate.value}" is neither map nor json`);
  }
  const secrets = readSecrets(reader, warnings);
  if (secrets.length === 0) {
    throw new AnnotationError(
      "no secrets: name at least one with agent-inject-secret-<name> or agent-inject-template-<name>",
    );
  }

  const names = pod.spec.containers.map((container) => container.name);
  const listed = reader.get("agent-inject-containers")?.value;
  const containers =
    listed === undefined || listed.trim() === ""
      ? names
      : listed
          .split(",")
          .map((name) => name.trim())
          .filter((name) => name !== "");
  const missing = containers.filter((name) => !names.includes(name));
  if (missing.length > 0)
    warnings.push(`agent-inject-containers names no container ${missing.join(", ")}: ignored`);

  const prePopulate = readBool(reader, "agent-pre-populate", true);
  const prePopulateOnly = readBool(reader, "agent-pre-populate-only", false);
  if (!prePopulate && prePopulateOnly) {
    throw new AnnotationError(
      "agent-pre-populate is false and agent-pre-populate-only is true: the agent would run neither before nor beside the application",
    );
  }

  const backoff: InjectionPlan["backoff"] = {};
  const minBackoff = reader.get("auth-min-backoff");
  const maxBackoff = reader.get("auth-max-backoff");
  if (minBackoff && minBackoff.value.trim() !== "")
    backoff.initialMs = Math.max(1, parseGoDuration(minBackoff));
  if (maxBackoff && maxBackoff.value.trim() !== "") backoff.maxMs = Math.max(1, parseGoDuration(maxBackoff));
  if (backoff.initialMs !== undefined && backoff.maxMs !== undefined && backoff.maxMs < backoff.initialMs) {
    throw new AnnotationError("auth-max-backoff is shorter than auth-min-backoff");
  }
  const interval = reader.get("template-static-secret-render-interval");
  const refreshIntervalMs = interval && interval.value.trim() !== "" ? parseGoDuration(interval) : undefined;
  if (refreshIntervalMs !== undefined && refreshIntervalMs < 100) {
    throw new AnnotationError(`${interval?.key}: the agent reads secrets at most every 100ms`);
  }

  const share = reader.get("agent-share-process-namespace");
  const shareProcessNamespace = share ? parseGoBool(share) : undefined;
  if (shareProcessNamespace && pod.spec.shareProcessNamespace === false) {
    throw new AnnotationError(`${share?.key}: the pod turns shareProcessNamespace off; it is not turned on`);
  }

  const plan: InjectionPlan = {
    address: address.replace(/\/+$/, ""),
    authMount,
    role,
    secrets,
    backoff,
    prePopulate,
    prePopulateOnly,
    initFirst: readBool(reader, "agent-init-first", false),
    containers: containers.filter((name) => names.includes(name)),
    image: reader.get("agent-image")?.value.trim() || options.image,
    runAs: readRunAs(reader, pod, containers, warnings),
    resources: readResources(reader, options.resources),
    warnings,
  };
  if (refreshIntervalMs !== undefined) plan.refreshIntervalMs = refreshIntervalMs;
  if (shareProcessNamespace !== undefined) plan.shareProcessNamespace = shareProcessNamespace;
  return plan;
}
