/**
 * The agent's configuration: what it logs in with, which secrets it renders where (files,
 * or the environment of the program it runs), and how it behaves as a sidecar. Two
 * languages describe it, chosen by the file's extension: Coffer's own agent.yaml (read
 * here) and Vault Agent's HCL or JSON (vault-config.ts). Every problem in the file is
 * reported at once, with where it is, before the agent does anything; unknown keys are
 * errors, so a typo cannot silently turn a setting off. docs/kubernetes.md documents
 * every key.
 */
import { readFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import { type GoTemplate, parseConsulTemplate } from "./go-template/go-template.ts";
import { ENV_NAME, type RenderSpec, type SecretFormat } from "./render.ts";
import { parseTemplate, RenderError, type Template } from "./template.ts";

export type AuthConfig =
  | { method: "kubernetes"; mount: string; role: string; tokenFile: string }
  | { method: "token"; tokenFile: string };

/** A program the agent runs: an argv, without a shell. */
export interface HookCommand {
  command: string[];
  timeoutMs: number;
}

export interface SecretEntry extends RenderSpec {
  /** The API path read with GET, e.g. "secret/data/app/db" or "aws/creds/deploy". */
  path?: string;
  /** Where the content goes: a file, or (exec mode) an environment variable of the program. */
  destination?: string;
  env?: string;
  /** The file's mode; 0600 unless the configuration says otherwise. */
  perms?: number;
  /** Run after this file changed (Vault Agent's template `command`). */
  command?: HookCommand;
}

/** Exec mode: the agent runs the application with its secrets in the environment. */
export interface ExecConfig {
  command: string[];
  /** Restart the program when an environment secret changes (Vault's "always"), or leave it ("never"). */
  restartOnSecretChanges: boolean;
  stopSignal: NodeJS.Signals;
  /** How long a stopping program may take before it is killed. */
  stopTimeoutMs: number;
}

/** Where the agent also writes its token (Vault Agent's `sink "file"`). */
export interface TokenSink {
  path: string;
  mode: number;
}

export interface AgentConfig {
  address: string;
  auth: AuthConfig;
  secrets: SecretEntry[];
  /** How often secrets without a lease (KV) are read again. */
  refreshIntervalMs: number;
  /** Written once the first render of every secret is complete: a readiness signal. */
  readyFile?: string;
  /** Run after a render changed a file (not after the first render). */
  onChange?: { command: string[]; timeoutMs: number };
  backoff: { initialMs: number; maxMs: number };
  /** With --once: how long to keep retrying server errors before giving up. */
  onceTimeoutMs: number;
  exec?: ExecConfig;
  sinks?: TokenSink[];
  /** Render once and exit, as --once (Vault Agent's exit_after_auth). */
  exitAfterAuth?: boolean;
  /** Give up (exit 1) after this many failed attempts in a row, also as a sidecar. */
  maxRetries?: number;
}

/** A configuration and what the agent should say about it before it starts. */
export interface LoadedConfig {
  config: AgentConfig;
  /** Settings the agent accepts but does not act on, each named. */
  warnings: string[];
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid agent configuration ${file}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

/** The projected token path the manifests in deploy/kubernetes/ mount. */
export const DEFAULT_TOKEN_FILE = "/var/run/secrets/coffer/token";
const FORMATS: readonly SecretFormat[] = ["raw", "json", "dotenv", "template", "consul-template"];
export const STOP_SIGNALS = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGKILL",
] as const;
/** Vault Agent's default: the program gets SIGTERM, and then SIGKILL if it lingers. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "1h30m", "500ms", "45s" or a number of seconds, in milliseconds. */
export function parseConfigDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== "string" || !/^(\d+(ms|s|m|h))+$/.test(value.trim())) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.trim().matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(amount) * (DURATION_UNITS[unit as string] ?? 0);
  }
  return total;
}

type Raw = Record<string, unknown>;

/** Reads one YAML mapping, recording every problem instead of stopping at the first. */
class Reader {
  constructor(
    private readonly problems: string[],
    private readonly where: string,
    private readonly raw: Raw,
  ) {}

  boolean(key: string): boolean | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") {
      this.problem(key, "expected true or false");
      return undefined;
    }
    return value;
  }

  static of(problems: string[], where: string, value: unknown): Reader | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      problems.push(`${where}: expected a mapping of keys to values`);
      return undefined;
    }
    return new Reader(problems, where, value as Raw);
  }

  private at(key: string): string {
    return this.where === "" ? key : `${this.where}.${key}`;
  }

  problem(key: string, message: string): void {
    this.problems.push(`${this.at(key)}: ${message}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  string(key: string, required = false): string | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) {
      if (required) this.problem(key, "is required");
      return undefined;
    }
    if (typeof value !== "string" || value.trim() === "") {
      this.problem(key, "expected a non-empty string");
      return undefined;
    }
    return value;
  }

  duration(key: string, fallback: number, minimum = 0): number {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    const ms = parseConfigDuration(value);
    if (ms === undefined) {
      this.problem(key, 'expected a duration such as "30s", "5m", "1h30m" or "500ms"');
      return fallback;
    }
    if (ms < minimum) {
      this.problem(key, `must be at least ${minimum} ms`);
      return fallback;
    }
    return ms;
  }

  child(key: string): Reader | undefined {
    return Reader.of(this.problems, this.at(key), this.raw[key]);
  }

  list(key: string): unknown[] | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.problem(key, 'expected a list, e.g. ["a", "b"]');
      return undefined;
    }
    return value;
  }

  allowOnly(keys: readonly string[]): void {
    for (const key of Object.keys(this.raw)) {
      if (!keys.includes(key)) this.problems.push(`${this.at(key)}: unknown key (known: ${keys.join(", ")})`);
    }
  }
}

export function pathIn(base: string, file: string): string {
  return isAbsolute(file) ? file : resolve(base, file);
}

function readAuth(root: Reader, base: string): AuthConfig | undefined {
  const auth = root.child("auth");
  if (!auth) return undefined;
  const method = auth.string("method") ?? "kubernetes";
  if (method === "kubernetes") {
    auth.allowOnly(["method", "mount", "role", "token_file"]);
    const role = auth.string("role", true);
    const mount = (auth.string("mount") ?? "kubernetes").replace(/^\/+|\/+$/g, "").replace(/^auth\//, "");
    const tokenFile = pathIn(base, auth.string("token_file") ?? DEFAULT_TOKEN_FILE);
    return role === undefined ? undefined : { method, mount, role, tokenFile };
  }
  if (method === "token") {
    auth.allowOnly(["method", "token_file"]);
    const tokenFile = auth.string("token_file", true);
    return tokenFile === undefined ? undefined : { method, tokenFile: pathIn(base, tokenFile) };
  }
  auth.problem("method", `unknown method "${method}": use kubernetes or token`);
  return undefined;
}

async function readTemplateText(
  entry: Reader,
  base: string,
): Promise<{ text: string; name: string } | undefined> {
  const inline = entry.string("template");
  const file = entry.string("template_file");
  if ((inline === undefined) === (file === undefined)) {
    entry.problem("template", "a template entry needs exactly one of template or template_file");
    return undefined;
  }
  let text = inline;
  if (file !== undefined) {
    try {
      text = await readFile(pathIn(base, file), "utf8");
    } catch (error) {
      entry.problem(
        "template_file",
        `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
      return undefined;
    }
  }
  return { text: text as string, name: file ?? "template" };
}

async function readTemplate(
  entry: Reader,
  base: string,
  format: SecretFormat,
): Promise<{ template?: Template; goTemplate?: GoTemplate } | undefined> {
  const source = await readTemplateText(entry, base);
  if (!source) return undefined;
  const missingKey = entry.has("error_on_missing_key")
    ? entry.boolean("error_on_missing_key")
      ? "error"
      : "print"
    : undefined;
  try {
    if (format === "consul-template") {
      return { goTemplate: parseConsulTemplate(source.text, { name: source.name, missingKey }) };
    }
    return { template: parseTemplate(source.text) };
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    entry.problem(source.name === "template" ? "template" : "template_file", error.message);
    return undefined;
  }
}

async function readSecret(problems: string[], where: string, value: unknown, base: string) {
  const entry = Reader.of(problems, where, value);
  if (!entry) return undefined;
  entry.allowOnly([
    "path",
    "destination",
    "env",
    "format",
    "field",
    "template",
    "template_file",
    "error_on_missing_key",
  ]);
  const path = entry.string("path")?.replace(/^\/+/, "").replace(/^v1\//, "");
  const destination = entry.string("destination");
  const env = entry.string("env");
  if ((destination === undefined) === (env === undefined)) {
    entry.problem("destination", "is required (or env, for exec mode), and not both");
  }
  if (env !== undefined && !ENV_NAME.test(env)) entry.problem("env", `"${env}" is not a variable name`);
  const format = (entry.string("format") ?? "json") as SecretFormat;
  if (!FORMATS.includes(format)) {
    entry.problem("format", `unknown format "${format}": use ${FORMATS.join(", ")}`);
    return undefined;
  }
  const templated = format === "template" || format === "consul-template";
  const field = entry.string("field");
  if (format === "raw" && field === undefined) entry.problem("field", "is required for format raw");
  if (format !== "raw" && entry.has("field")) entry.problem("field", "is only for format raw");
  if (!templated && (entry.has("template") || entry.has("template_file"))) {
    entry.problem("template", "is only for format template or consul-template");
  }
  if (format !== "consul-template" && entry.has("error_on_missing_key")) {
    entry.problem("error_on_missing_key", "is only for format consul-template");
  }
  const templates = templated ? await readTemplate(entry, base, format) : undefined;
  const needsPath = !templated || templates?.template?.usesOwnSecret;
  if (needsPath && path === undefined) entry.problem("path", "is required (the secret to read)");
  if (format === "consul-template" && path !== undefined) {
    entry.problem(
      "path",
      'is not for format consul-template: its template names its secrets ({{ with secret "..." }})',
    );
  }
  if (destination === undefined && env === undefined) return undefined;
  const secret: SecretEntry = { path, format };
  if (destination !== undefined) secret.destination = pathIn(base, destination);
  if (env !== undefined) secret.env = env;
  if (field !== undefined) secret.field = field;
  if (templates?.template) secret.template = templates.template;
  if (templates?.goTemplate) secret.goTemplate = templates.goTemplate;
  return secret;
}

function readExec(root: Reader): ExecConfig | undefined {
  const exec = root.child("exec");
  if (!exec) return undefined;
  exec.allowOnly(["command", "restart_on_secret_changes", "restart_stop_signal", "stop_timeout"]);
  const command = exec.list("command");
  if (!exec.has("command")) exec.problem("command", "is required");
  else if (command && (command.length === 0 || command.some((part) => typeof part !== "string"))) {
    exec.problem("command", 'expected a non-empty list of strings, e.g. ["./app", "--serve"]');
  }
  const restart = exec.string("restart_on_secret_changes") ?? "always";
  if (restart !== "always" && restart !== "never") {
    exec.problem("restart_on_secret_changes", `expected "always" or "never", not "${restart}"`);
  }
  const signal = exec.string("restart_stop_signal") ?? "SIGTERM";
  if (!(STOP_SIGNALS as readonly string[]).includes(signal)) {
    exec.problem("restart_stop_signal", `unknown signal "${signal}": use ${STOP_SIGNALS.join(", ")}`);
  }
  return {
    command: (command ?? []) as string[],
    restartOnSecretChanges: restart !== "never",
    stopSignal: signal as NodeJS.Signals,
    stopTimeoutMs: exec.duration("stop_timeout", DEFAULT_STOP_TIMEOUT_MS, 1),
  };
}

/** Checks what every configuration language must agree on: destinations, and env entries with exec. */
export function checkEntries(config: AgentConfig, problems: string[], where = "secrets"): void {
  const destinations = config.secrets.flatMap((secret) => (secret.destination ? [secret.destination] : []));
  for (const duplicate of new Set(
    destinations.filter((name, index) => destinations.indexOf(name) !== index),
  )) {
    problems.push(`${where}: ${duplicate} is the destination of more than one secret`);
  }
  const names = config.secrets.flatMap((secret) => (secret.env ? [secret.env] : []));
  for (const duplicate of new Set(names.filter((name, index) => names.indexOf(name) !== index))) {
    problems.push(`${where}: the environment variable ${duplicate} is set by more than one secret`);
  }
  if (names.length > 0 && !config.exec) {
    problems.push(`${where}: environment variables need exec (the program to start with them)`);
  }
  if (config.exec && config.exitAfterAuth) {
    problems.push(
      "exec cannot be combined with exit_after_auth: the agent must stay to supervise the program",
    );
  }
}

/** `base` resolves relative paths: the directory of the configuration file. */
export async function parseAgentConfig(
  text: string,
  { file = "agent.yaml", base = process.cwd(), env = process.env } = {},
): Promise<AgentConfig> {
  const problems: string[] = [];
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => `YAML: ${error.message.split("\n")[0]}`),
    );
  }
  const root = Reader.of(problems, "", document.toJS() ?? {});
  if (!root) throw new ConfigError(file, problems);
  root.allowOnly([
    "address",
    "auth",
    "secrets",
    "refresh_interval",
    "ready_file",
    "on_change",
    "backoff",
    "once_timeout",
    "exec",
  ]);

  const address = root.string("address") || env.COFFER_ADDR?.trim() || env.VAULT_ADDR?.trim();
  if (!address) root.problem("address", "is required (or set COFFER_ADDR)");
  else if (!/^https?:\/\/[^/]/.test(address)) root.problem("address", `"${address}" is not an http(s) URL`);

  if (!root.has("auth")) root.problem("auth", "is required");
  const auth = root.has("auth") ? readAuth(root, base) : undefined;

  const rawSecrets = root.list("secrets");
  if (!rawSecrets || rawSecrets.length === 0)
    root.problem("secrets", "expected a list of at least one secret");
  const secrets: SecretEntry[] = [];
  for (const [index, value] of (rawSecrets ?? []).entries()) {
    const secret = await readSecret(problems, `secrets[${index}]`, value, base);
    if (secret) secrets.push(secret);
  }
  let onChange: AgentConfig["onChange"];
  const hook = root.has("on_change") ? root.child("on_change") : undefined;
  if (hook) {
    hook.allowOnly(["command", "timeout"]);
    const command = hook.list("command");
    const timeoutMs = hook.duration("timeout", 30_000, 1);
    if (!hook.has("command")) hook.problem("command", "is required");
    else if (command && (command.length === 0 || command.some((part) => typeof part !== "string"))) {
      hook.problem("command", 'expected a non-empty list of strings, e.g. ["kill", "-HUP", "1"]');
    } else if (command) onChange = { command: command as string[], timeoutMs };
  }

  const backoff = root.has("backoff") ? root.child("backoff") : undefined;
  backoff?.allowOnly(["initial", "max"]);
  const initialMs = backoff?.duration("initial", 1_000, 1) ?? 1_000;
  const maxMs = backoff?.duration("max", 60_000, 1) ?? 60_000;
  if (maxMs < initialMs) backoff?.problem("max", "must not be less than backoff.initial");

  const readyFile = root.string("ready_file");
  const config: AgentConfig = {
    address: address ?? "",
    auth: auth as AuthConfig,
    secrets,
    refreshIntervalMs: root.duration("refresh_interval", 5 * 60_000, 100),
    backoff: { initialMs, maxMs },
    onceTimeoutMs: root.duration("once_timeout", 2 * 60_000, 1),
  };
  if (readyFile !== undefined) config.readyFile = pathIn(base, readyFile);
  if (onChange) config.onChange = onChange;
  const exec = root.has("exec") ? readExec(root) : undefined;
  if (exec) config.exec = exec;
  checkEntries(config, problems);
  if (problems.length > 0 || !auth) throw new ConfigError(file, problems);
  return config;
}

/** The configuration languages, by the file's extension. */
const LANGUAGES: Record<string, "yaml" | "hcl" | "json"> = {
  ".yaml": "yaml",
  ".yml": "yaml",
  ".hcl": "hcl",
  ".json": "json",
};

/**
 * Reads the configuration file: agent.yaml in Coffer's language, or a Vault Agent
 * configuration in HCL (.hcl) or JSON (.json).
 */
export async function loadAgentConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const language = LANGUAGES[extname(file).toLowerCase()];
  if (!language) {
    throw new ConfigError(file, [
      "unknown configuration language: name the file .yaml (Coffer's agent.yaml), or .hcl or .json (Vault Agent's)",
    ]);
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}`]);
  }
  const base = dirname(resolve(file));
  if (language === "yaml") return { config: await parseAgentConfig(text, { file, base, env }), warnings: [] };
  const { parseVaultAgentConfig } = await import("./vault-config.ts");
  return parseVaultAgentConfig(text, { file, base, env, language });
}
