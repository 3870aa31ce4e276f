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
import { annotationParity } from "./parity.ts";

/** Vault's injector's default secret-volume-path. */
export const DEFAULT_SECRET_VOLUME_PATH = "/vault/secrets";
/** Vault's injector's default user and group for the agent, when the application's are unknown. */
export const VAULT_AGENT_USER = 100;
export const VAULT_AGENT_GROUP = 1000;
/** The mode the agent writes a file with when the pod names none (agent-inject-perms-<name>). */
export const AGENT_FILE_MODE = 0o600;

export interface SecretFile {
  /** The secret's name in its annotations (agent-inject-secret-<name>). */
  name: string;
  /** The API path read, when the pod names one (agent-inject-secret-<name>). */
  path?: string;
  /** agent-inject-template-<name>: a consul-template template, as Vault Agent reads it. */
  template?: string;
  /** The file the agent writes. */
  destination: string;
  /** The directory the file's volume is mounted at. */
  mountPath: string;
  /** agent-inject-perms-<name>: the file's mode, as the pod writes it ("0440"). */
  perms?: string;
  /** agent-inject-command-<name>: run with /bin/sh -c after each write of the file. */
  command?: string;
  /** error-on-missing-key-<name>. */
  errorOnMissingKey?: boolean;
  /** agent-template-left-delim-<name>, agent-template-right-delim-<name>. */
  delimiters?: { left?: string; right?: string };
}

export interface InjectionPlan {
  address: string;
  /** The auth mount, without "auth/". */
  authMount: string;
  role: string;
  secrets: SecretFile[];
  /** agent-inject-default-template: what a secret without a template renders. */
  defaultTemplate: "map" | "json";
  /** agent-inject-token: where the agent also writes its token, in a secrets volume. */
  tokenSink?: { path: string; mountPath: string };
  /** template-static-secret-render-interval: how often secrets without a lease are read again. */
  refreshIntervalMs?: number;
  /** template-config-exit-on-retry-failure: whether the agent ends once its retries have failed. */
  exitOnRetryFailure: boolean;
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

/** agent-inject-perms-<name>: an octal mode, as the agent reads a template's `perms`. */
function readPerms(annotation: Annotation | undefined): string | undefined {
  if (!annotation) return undefined;
  const text = annotation.value.trim();
  if (text === "") return undefined;
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new AnnotationError(`${annotation.key}: "${annotation.value}" is not a file mode such as "0400"`);
  }
  return text;
}

/** A template delimiter: the annotation's value as it is, unless it is empty (then Go's own). */
function readDelimiter(annotation: Annotation | undefined): string | undefined {
  return annotation && annotation.value.trim() !== "" ? annotation.value : undefined;
}

function readSecrets(reader: AnnotationReader): SecretFile[] {
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
    const secret: SecretFile = { name, destination, mountPath: volume };
    const path = secretPaths.get(raw)?.value.trim();
    if (path) secret.path = path;
    const template = templates.get(raw)?.value;
    if (template !== undefined && template.trim() !== "") secret.template = template;
    const perms = readPerms(perSecret("agent-inject-perms", raw));
    if (perms !== undefined) secret.perms = perms;
    const command = perSecret("agent-inject-command", raw)?.value.trim();
    if (command) secret.command = command;
    const errorOnMissingKey = perSecret("error-on-missing-key", raw);
    if (errorOnMissingKey && errorOnMissingKey.value.trim() !== "")
      secret.errorOnMissingKey = parseGoBool(errorOnMissingKey);
    const left = readDelimiter(perSecret("agent-template-left-delim", raw));
    const right = readDelimiter(perSecret("agent-template-right-delim", raw));
    if (left !== undefined || right !== undefined) {
      secret.delimiters = {};
      if (left !== undefined) secret.delimiters.left = left;
      if (right !== undefined) secret.delimiters.right = right;
    }
    secrets.push(secret);
  }
  return secrets;
}

/** agent-inject-token: the token beside the secrets, in the pod's secret-volume-path, as Vault writes it. */
function readTokenSink(reader: AnnotationReader): InjectionPlan["tokenSink"] {
  if (!readBool(reader, "agent-inject-token", false)) return undefined;
  const mountPath = reader.get("secret-volume-path")?.value.trim() || DEFAULT_SECRET_VOLUME_PATH;
  if (!mountPath.startsWith("/"))
    throw new AnnotationError(`secret-volume-path: "${mountPath}" is not an absolute path`);
  const volume = normalizePath(mountPath);
  return { path: normalizePath(`${volume}/token`), mountPath: volume };
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

/** The files only the agent's user can read: no agent-inject-perms-<name> that lets its group or others read. */
function ownerOnlyFiles(secrets: readonly SecretFile[]): string[] {
  return secrets
    .filter((secret) => (Number.parseInt(secret.perms ?? AGENT_FILE_MODE.toString(8), 8) & 0o044) === 0)
    .map((secret) => secret.destination);
}

function readRunAs(
  reader: AnnotationReader,
  pod: Pod,
  containers: string[],
  secrets: readonly SecretFile[],
  warnings: string[],
) {
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
  const ownerOnly = ownerOnlyFiles(secrets);
  const readableByOwner = `writes ${ownerOnly.join(", ")} readable by that user only (mode 0600 unless agent-inject-perms-<name> says otherwise)`;
  if (user === undefined) {
    user = app.user ?? VAULT_AGENT_USER;
    if (app.user === undefined && ownerOnly.length > 0) {
      warnings.push(
        `the pod spec does not say which user the application runs as: the agent runs as ${VAULT_AGENT_USER} and ${readableByOwner}: set runAsUser, or agent-run-as-user`,
      );
    }
  }
  if (user === 0)
    throw new AnnotationError("the agent does not run as root (user 0): choose another agent-run-as-user");
  const others = pod.spec.containers.filter((container) => {
    const own = container.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser;
    return containers.includes(container.name) && own !== undefined && own !== user;
  });
  if (others.length > 0 && ownerOnly.length > 0) {
    const names = others.map((container) => container.name).join(", ");
    warnings.push(
      `the agent runs as ${user} and ${readableByOwner}: ${names} run${others.length === 1 ? "s" : ""} as another user and cannot read ${ownerOnly.length === 1 ? "it" : "them"}`,
    );
  }
  const group = groupAnnotation ? uid(groupAnnotation) : (app.group ?? VAULT_AGENT_GROUP);
  return { user, group };
}

/** Annotations under the prefixes that this injector does not read: refused, warned about, or unknown. */
function checkParity(reader: AnnotationReader, warnings: string[]): void {
  const refused: string[] = [];
  for (const [name, annotation] of reader.names()) {
    const parity = annotationParity(name);
    if (parity === "supported") continue;
    if (parity === "unknown") {
      warnings.push(`${annotation.key} is not an annotation of the injector: ignored`);
      continue;
    }
    const active = parity.kind === "flag" ? parseGoBool(annotation) : annotation.value.trim() !== "";
    if (!active) continue;
    if (parity.effect === "refused") refused.push(`${annotation.key} is not supported: ${parity.reason}`);
    else warnings.push(`${annotation.key} is ignored: ${parity.reason}`);
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

  const defaultTemplateAnnotation = reader.get("agent-inject-default-template");
  const defaultTemplate = defaultTemplateAnnotation?.value.trim().toLowerCase() || "map";
  if (defaultTemplate !== "map" && defaultTemplate !== "json") {
    throw new AnnotationError(
      `${defaultTemplateAnnotation?.key}: "${defaultTemplateAnnotation?.value}" is neither map nor json`,
    );
  }
  const secrets = readSecrets(reader);
  if (secrets.length === 0) {
    throw new AnnotationError(
      "no secrets: name at least one with agent-inject-secret-<name> or agent-inject-template-<name>",
    );
  }
  const tokenSink = readTokenSink(reader);
  const destinations = [
    ...secrets.map((secret) => secret.destination),
    ...(tokenSink ? [tokenSink.path] : []),
  ];
  const duplicate = destinations.find((destination, index) => destinations.indexOf(destination) !== index);
  if (duplicate) {
    throw new AnnotationError(
      `more than one ${tokenSink?.path === duplicate ? "file (a secret and agent-inject-token's)" : "secret"} is written to ${duplicate}`,
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

  const image = reader.get("agent-image")?.value.trim() || options.image;
  const commands = [...reader.withPrefix("agent-inject-command").values()].filter(
    (annotation) => annotation.value.trim() !== "",
  );
  if (commands.length > 0 && image === options.image) {
    throw new AnnotationError(
      `${commands.map((annotation) => annotation.key).join(", ")}: the agent runs a command with /bin/sh -c, as Vault Agent does, and the injector's agent image has no shell: name an image that has /bin/sh (and the programs the command calls) in agent-image`,
    );
  }

  const plan: InjectionPlan = {
    address: address.replace(/\/+$/, ""),
    authMount,
    role,
    secrets,
    defaultTemplate,
    exitOnRetryFailure: readBool(reader, "template-config-exit-on-retry-failure", true),
    backoff,
    prePopulate,
    prePopulateOnly,
    initFirst: readBool(reader, "agent-init-first", false),
    containers: containers.filter((name) => names.includes(name)),
    image,
    runAs: readRunAs(reader, pod, containers, secrets, warnings),
    resources: readResources(reader, options.resources),
    warnings,
  };
  if (tokenSink) plan.tokenSink = tokenSink;
  if (refreshIntervalMs !== undefined) plan.refreshIntervalMs = refreshIntervalMs;
  if (shareProcessNamespace !== undefined) plan.shareProcessNamespace = shareProcessNamespace;
  return plan;
}
