/**
 * agent.yaml: what the agent logs in with, which secrets it renders where, and how it
 * behaves as a sidecar. Every problem in the file is reported at once, with where it is,
 * before the agent does anything; unknown keys are errors, so a typo cannot silently
 * turn a setting off. docs/kubernetes.md documents every key.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { RenderSpec, SecretFormat } from "./render.ts";
import { parseTemplate, RenderError, type Template } from "./template.ts";

export type AuthConfig =
  | { method: "kubernetes"; mount: string; role: string; tokenFile: string }
  | { method: "token"; tokenFile: string };

export interface SecretEntry extends RenderSpec {
  /** The API path read with GET, e.g. "secret/data/app/db" or "aws/creds/deploy". */
  path?: string;
  destination: string;
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
const FORMATS: readonly SecretFormat[] = ["raw", "json", "dotenv", "template"];
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

function pathIn(base: string, file: string): string {
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

async function readTemplate(entry: Reader, base: string): Promise<Template | undefined> {
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
  try {
    return parseTemplate(text as string);
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    entry.problem(file === undefined ? "template" : "template_file", error.message);
    return undefined;
  }
}

async function readSecret(problems: string[], where: string, value: unknown, base: string) {
  const entry = Reader.of(problems, where, value);
  if (!entry) return undefined;
  entry.allowOnly(["path", "destination", "format", "field", "template", "template_file"]);
  const path = entry.string("path")?.replace(/^\/+/, "").replace(/^v1\//, "");
  const destination = entry.string("destination", true);
  const format = (entry.string("format") ?? "json") as SecretFormat;
  if (!FORMATS.includes(format)) {
    entry.problem("format", `unknown format "${format}": use ${FORMATS.join(", ")}`);
    return undefined;
  }
  const field = entry.string("field");
  if (format === "raw" && field === undefined) entry.problem("field", "is required for format raw");
  if (format !== "raw" && entry.has("field")) entry.problem("field", "is only for format raw");
  if (format !== "template" && (entry.has("template") || entry.has("template_file"))) {
    entry.problem("template", "is only for format template");
  }
  const template = format === "template" ? await readTemplate(entry, base) : undefined;
  const needsPath = format !== "template" || template?.usesOwnSecret;
  if (needsPath && path === undefined) entry.problem("path", "is required (the secret to read)");
  if (destination === undefined) return undefined;
  const secret: SecretEntry = { path, destination: pathIn(base, destination), format };
  if (field !== undefined) secret.field = field;
  if (template) secret.template = template;
  return secret;
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
  const destinations = secrets.map((secret) => secret.destination);
  for (const duplicate of new Set(
    destinations.filter((name, index) => destinations.indexOf(name) !== index),
  )) {
    problems.push(`secrets: ${duplicate} is the destination of more than one secret`);
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
  if (problems.length > 0 || !auth) throw new ConfigError(file, problems);
  return config;
}

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error}`]);
  }
  return parseAgentConfig(text, { file, base: dirname(resolve(file)) });
}
