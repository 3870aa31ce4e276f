/**
 * Vault Agent's configuration, in HCL or JSON, for the part of it Coffer's agent does:
 *
 *   vault { address, retry { num_retries } }
 *   auto_auth { method "kubernetes" { mount_path, config { role, token_path } }
 *               method "token_file" { config { token_file_path } }
 *               sink "file" { config { path, mode } } }
 *   template { source | contents, destination, command | exec { command, timeout },
 *              command_timeout, perms, error_on_missing_key, left_delimiter, right_delimiter }
 *   env_template "NAME" { contents | source, error_on_missing_key }
 *   exec { command, restart_on_secret_changes, restart_stop_signal }
 *   exit_after_auth
 *   template_config { exit_on_retry_failure, static_secret_render_interval }
 *
 * Anything else is decided stanza by stanza (the tables below): refused with the reason
 * when acting without it would change what the agent does or protects (a listener, TLS
 * settings, response wrapping), or accepted with a warning when Vault Agent itself would
 * carry on the same without it (log settings, pid_file). Templates are Vault Agent's
 * language (consul-template's Go syntax), always.
 */
import { readFile } from "node:fs/promises";
import {
  type AgentConfig,
  type AuthConfig,
  ConfigError,
  checkEntries,
  DEFAULT_STOP_TIMEOUT_MS,
  type ExecConfig,
  type HookCommand,
  type LoadedConfig,
  parseConfigDuration,
  pathIn,
  type SecretEntry,
  STOP_SIGNALS,
  type TokenSink,
} from "./config.ts";
import { type MissingKeyPolicy, parseConsulTemplate } from "./go-template/go-template.ts";
import { parseHcl } from "./hcl/hcl-parser.ts";
import {
  type HclAttribute,
  type HclBlock,
  type HclBody,
  HclSyntaxError,
  type HclValue,
} from "./hcl/hcl-syntax.ts";
import { parseJsonConfig } from "./hcl/json-config.ts";
import { ENV_NAME } from "./render.ts";
import { RenderError } from "./template.ts";

/** Where Vault Agent reads the pod's token unless told otherwise. */
export const VAULT_KUBERNETES_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Vault Agent's retries before exit_on_retry_failure gives up. */
const VAULT_DEFAULT_RETRIES = 12;
const VAULT_TEMPLATE_COMMAND_TIMEOUT_MS = 30_000;
const VAULT_SINK_MODE = 0o640;

/** Settings Vault Agent users may have that Coffer's agent does without: warned about, then ignored. */
const IGNORED: Record<string, string> = {
  pid_file: "the agent's process is its container's",
  log_level: "the agent logs one JSON line per event, at info and above",
  log_file: "the agent logs to standard error",
  log_format: "the agent logs JSON",
  log_rotate_bytes: "the agent logs to standard error",
  log_rotate_duration: "the agent logs to standard error",
  log_rotate_max_files: "the agent logs to standard error",
  telemetry: "the agent has no metrics endpoint",
  disable_idle_connections: "the agent keeps no pool of idle connections to tune",
  disable_keep_alives: "the agent keeps no pool of idle connections to tune",
  enable_reauth_on_new_credentials: "the agent reads the token file again at every login",
  exit_on_err: "a failed login is retried with backoff, and with --once ends the agent",
  remove_secret_id_file_after_reading: "only AppRole has a secret ID file",
  max_connections_per_host: "the agent sends one request per secret at a time",
  lease_renewal_threshold: "leases are renewed at two thirds of their duration",
  backup: "keeping copies of old secrets on disk is what a secrets volume avoids",
  wait: "files are written once per pass, after every secret of the pass is read",
  create_dest_dirs: "the destination's directory is always created, mode 0700",
  child_process_stdout: "the program's output goes where the agent's goes",
  child_process_stderr: "the program's output goes where the agent's goes",
};

/** Settings the agent refuses, because going on without them would do something else. */
const REFUSED: Record<string, string> = {
  listener: "the agent serves no local API: applications read the files or the environment it renders",
  cache: "the agent serves no local API: applications read the files or the environment it renders",
  api_proxy: "the agent serves no local API: applications read the files or the environment it renders",
  namespace: "Coffer has no namespaces",
  ca_cert: "give Node a private CA with the NODE_EXTRA_CA_CERTS environment variable instead",
  ca_path: "give Node a private CA with the NODE_EXTRA_CA_CERTS environment variable instead",
  client_cert: "Coffer does not authenticate clients by TLS certificate",
  client_key: "Coffer does not authenticate clients by TLS certificate",
  tls_server_name: "the server name is the address's host",
  wrap_ttl: "Coffer does not wrap responses",
  dh_type: "the agent does not encrypt sinks: the token file is written with its mode",
  dh_path: "the agent does not encrypt sinks: the token file is written with its mode",
  aad: "the agent does not encrypt sinks: the token file is written with its mode",
  aad_env_var: "the agent does not encrypt sinks: the token file is written with its mode",
  derive_key: "the agent does not encrypt sinks: the token file is written with its mode",
  sandbox_path:
    "the agent does not confine file to a directory; leave file out of templates you do not trust",
  function_denylist: "every function a template can call is listed in docs/cli.md; none runs a program",
  function_blacklist: "every function a template can call is listed in docs/cli.md; none runs a program",
  user: "files are written by the agent's user; run the agent as the application's user",
  group: "files are written by the agent's user; run the agent as the application's user",
  auto_auth_self_heal: "the agent always logs in again when its token is refused",
};

function placeText(at: { line: number; column: number } | undefined): string {
  return at ? ` (line ${at.line}, column ${at.column})` : "";
}

function describeValue(value: HclValue): string {
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "an object";
  return JSON.stringify(value);
}

/** Reads one body, recording every problem instead of stopping at the first. */
class BodyReader {
  private readonly used = new Set<string>();

  constructor(
    private readonly problems: string[],
    private readonly warnings: string[],
    readonly where: string,
    private readonly body: HclBody,
  ) {}

  private at(name: string): string {
    return this.where === "" ? name : `${this.where}.${name}`;
  }

  problem(name: string, message: string, at?: { line: number; column: number }): void {
    const attribute = this.body.attributes.find((item) => item.name === name);
    this.problems.push(`${this.at(name)}${placeText(at ?? attribute?.at)}: ${message}`);
  }

  attribute(name: string): HclAttribute | undefined {
    this.used.add(name);
    return this.body.attributes.find((item) => item.name === name);
  }

  has(name: string): boolean {
    return this.attribute(name) !== undefined || this.blocks(name).length > 0;
  }

  string(name: string, required = false): string | undefined {
    const attribute = this.attribute(name);
    if (!attribute) {
      if (required) this.problem(name, "is required");
      return undefined;
    }
    if (typeof attribute.value !== "string" || attribute.value === "") {
      this.problem(name, `expected a non-empty string, not ${describeValue(attribute.value)}`);
      return undefined;
    }
    return attribute.value;
  }

  boolean(name: string): boolean | undefined {
    const attribute = this.attribute(name);
    if (!attribute) return undefined;
    // Vault's HCL 1 also reads "true" and "false" in quotes.
    const value = attribute.value === "true" ? true : attribute.value === "false" ? false : attribute.value;
    if (typeof value !== "boolean") {
      this.problem(name, `expected true or false, not ${describeValue(attribute.value)}`);
      return undefined;
    }
    return value;
  }

  integer(name: string): number | undefined {
    const attribute = this.attribute(name);
    if (!attribute) return undefined;
    const value = typeof attribute.value === "string" ? Number(attribute.value) : attribute.value;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.problem(name, `expected a whole number, not ${describeValue(attribute.value)}`);
      return undefined;
    }
    return value;
  }

  duration(name: string): number | undefined {
    const attribute = this.attribute(name);
    if (!attribute) return undefined;
    const raw = attribute.value;
    const ms = parseConfigDuration(typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw);
    if (ms === undefined)
      this.problem(name, 'expected a duration such as "30s", "5m" or a number of seconds');
    return ms;
  }

  /** A list of strings; a single string when `shell` says how to run it. */
  command(name: string): string[] | undefined {
    const attribute = this.attribute(name);
    if (!attribute) return undefined;
    const value = attribute.value;
    // A string command runs through a shell, as consul-template runs it.
    if (typeof value === "string" && value.trim() !== "") return ["/bin/sh", "-c", value];
    if (Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === "string")) {
      return value as string[];
    }
    this.problem(
      name,
      'expected a non-empty list of strings, e.g. ["kill", "-HUP", "1"], or a shell command',
    );
    return undefined;
  }

  blocks(type: string): HclBlock[] {
    this.used.add(type);
    return this.body.blocks.filter((block) => block.type === type);
  }

  /** At most one block (or object attribute) of this name. */
  child(type: string): BodyReader | undefined {
    const [first, second] = this.blocks(type);
    if (second) this.problems.push(`${this.at(type)}${placeText(second.at)}: is given more than once`);
    return first ? this.reader(type, first.body) : undefined;
  }

  reader(name: string, body: HclBody): BodyReader {
    return new BodyReader(this.problems, this.warnings, this.at(name), body);
  }

  /** Refuses, warns about, or calls unknown whatever this reader did not read. */
  finish(): void {
    const names = [
      ...this.body.attributes.map((item) => ({ name: item.name, at: item.at })),
      ...this.body.blocks.map((item) => ({ name: item.type, at: item.at })),
    ].sort((a, b) => (a.at?.line ?? 0) - (b.at?.line ?? 0) || (a.at?.column ?? 0) - (b.at?.column ?? 0));
    for (const { name, at } of names) {
      if (this.used.has(name)) continue;
      const refused = REFUSED[name];
      const ignored = IGNORED[name];
      if (refused) this.problems.push(`${this.at(name)}${placeText(at)}: is not supported: ${refused}`);
      else if (ignored) this.warnings.push(`${this.at(name)} is ignored: ${ignored}`);
      else this.problems.push(`${this.at(name)}${placeText(at)}: unknown setting`);
    }
  }
}

/**
 * The blocks of a labelled type (`method "kubernetes" {}`) with their labels, whichever
 * form they were written in: a label, a `type` attribute (`method { type = "kubernetes" }`),
 * or JSON's nesting (`"method": {"kubernetes": {...}}`).
 */
type Labelled = { label: string; reader: BodyReader; at?: { line: number; column: number } };

function labelled(parent: BodyReader, type: string, labelAttribute?: string): Labelled[] {
  const found: Labelled[] = [];
  for (const block of parent.blocks(type)) {
    const [label, extra] = block.labels;
    if (extra !== undefined) {
      parent.problem(type, `expected one label, e.g. ${type} "name" { ... }`, block.at);
      continue;
    }
    if (label !== undefined) {
      found.push({ label, reader: parent.reader(`${type} "${label}"`, block.body), at: block.at });
      continue;
    }
    const typed = labelAttribute
      ? block.body.attributes.find((item) => item.name === labelAttribute)
      : undefined;
    if (typed && typeof typed.value === "string") {
      const reader = parent.reader(`${type} "${typed.value}"`, block.body);
      reader.attribute(labelAttribute as string);
      found.push({ label: typed.value, reader, at: block.at });
      continue;
    }
    if (block.body.attributes.length === 0 && block.body.blocks.length > 0) {
      for (const nested of block.body.blocks) {
        found.push({ label: nested.type, reader: parent.reader(`${type} "${nested.type}"`, nested.body) });
      }
      continue;
    }
    parent.problem(type, `needs a label, e.g. ${type} "name" { ... }`, block.at);
  }
  return found;
}

function readAuth(
  root: BodyReader,
  base: string,
): {
  auth?: AuthConfig;
  sinks: TokenSink[];
  backoff: { initialMs?: number; maxMs?: number };
} {
  const autoAuth = root.child("auto_auth");
  if (!autoAuth) {
    root.problem("auto_auth", "is required: the agent logs in with auto_auth's method");
    return { sinks: [], backoff: {} };
  }
  const methods = labelled(autoAuth, "method", "type");
  if (methods.length !== 1)
    autoAuth.problem("method", `expected exactly one method, found ${methods.length}`);
  let auth: AuthConfig | undefined;
  const backoff: { initialMs?: number; maxMs?: number } = {};
  for (const { label, reader, at } of methods.slice(0, 1)) {
    const mountPath = reader.string("mount_path");
    backoff.initialMs = reader.duration("min_backoff");
    backoff.maxMs = reader.duration("max_backoff");
    const config = reader.child("config");
    if (label === "kubernetes") {
      const role = config?.string("role", true);
      if (!config) reader.problem("config", 'is required: config { role = "..." }');
      const tokenFile = pathIn(base, config?.string("token_path") ?? VAULT_KUBERNETES_TOKEN_PATH);
      const mount = (mountPath ?? "auth/kubernetes")
        .replace(/^\/+/, "")
        .replace(/^auth\//, "")
        .replace(/\/+$/, "");
      if (role) auth = { method: "kubernetes", mount, role, tokenFile };
    } else if (label === "token_file") {
      const tokenFile = config?.string("token_file_path", true);
      if (!config) reader.problem("config", 'is required: config { token_file_path = "..." }');
      if (tokenFile) auth = { method: "token", tokenFile: pathIn(base, tokenFile) };
    } else {
      autoAuth.problem(
        "method",
        `"${label}" is not supported: the agent logs in with kubernetes or token_file`,
        at,
      );
      continue;
    }
    config?.finish();
    reader.finish();
  }
  const sinks: TokenSink[] = [];
  for (const { label, reader } of labelled(autoAuth, "sink", "type")) {
    const config = reader.child("config");
    if (label !== "file") {
      reader.problem("type", `sink "${label}" is not supported: use sink "file"`);
      continue;
    }
    const path = config?.string("path", true);
    if (!config) reader.problem("config", 'is required: config { path = "..." }');
    const mode = config?.integer("mode");
    if (mode !== undefined && (mode < 0 || mode > 0o777))
      config?.problem("mode", "expected a file mode such as 0640");
    if (path) sinks.push({ path: pathIn(base, path), mode: mode ?? VAULT_SINK_MODE });
    config?.finish();
    reader.finish();
  }
  autoAuth.finish();
  return { auth, sinks, backoff };
}

/** A file mode: a string of octal digits ("0640"), or a number (0640 in HCL is octal already). */
function readPerms(reader: BodyReader): number | undefined {
  const attribute = reader.attribute("perms");
  if (!attribute) return undefined;
  const raw = attribute.value;
  const mode =
    typeof raw === "string" && /^0?[0-7]{3}$/.test(raw)
      ? Number.parseInt(raw, 8)
      : typeof raw === "number" && Number.isInteger(raw)
        ? raw
        : undefined;
  if (mode === undefined || mode < 0 || mode > 0o777) {
    reader.problem("perms", 'expected a file mode such as "0640"');
    return undefined;
  }
  return mode;
}

async function readTemplateSource(reader: BodyReader, base: string, name: string) {
  const contents = reader.attribute("contents");
  const source = reader.string("source");
  if ((contents === undefined) === (source === undefined)) {
    reader.problem("source", "a template needs exactly one of source or contents");
    return undefined;
  }
  if (contents !== undefined) {
    if (typeof contents.value !== "string") {
      reader.problem("contents", "expected a string");
      return undefined;
    }
    return { text: contents.value, name };
  }
  try {
    return { text: await readFile(pathIn(base, source as string), "utf8"), name: source as string };
  } catch (error) {
    reader.problem("source", `cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    return undefined;
  }
}

async function readGoTemplate(reader: BodyReader, base: string, name: string) {
  const source = await readTemplateSource(reader, base, name);
  const strict = reader.boolean("error_on_missing_key");
  const missingKey: MissingKeyPolicy | undefined =
    strict === undefined ? undefined : strict ? "error" : "print";
  const left = reader.string("left_delimiter");
  const right = reader.string("right_delimiter");
  if (!source) return undefined;
  try {
    return parseConsulTemplate(source.text, { name: source.name, missingKey, delimiters: { left, right } });
  } catch (error) {
    if (!(error instanceof RenderError)) throw error;
    reader.problem(reader.attribute("source") ? "source" : "contents", error.message);
    return undefined;
  }
}

async function readFileTemplate(
  reader: BodyReader,
  base: string,
  index: number,
): Promise<SecretEntry | undefined> {
  const goTemplate = await readGoTemplate(reader, base, `template[${index}].contents`);
  const destination = reader.string("destination", true);
  const perms = readPerms(reader);
  let timeoutMs = reader.duration("command_timeout") ?? VAULT_TEMPLATE_COMMAND_TIMEOUT_MS;
  let command = reader.command("command");
  const exec = reader.child("exec");
  if (exec) {
    if (command) reader.problem("exec", "give command or exec, not both");
    command = exec.command("command");
    if (!exec.has("command")) exec.problem("command", "is required");
    timeoutMs = exec.duration("timeout") ?? timeoutMs;
    exec.finish();
  }
  reader.finish();
  if (!goTemplate || !destination) return undefined;
  const entry: SecretEntry = {
    format: "consul-template",
    goTemplate,
    destination: pathIn(base, destination),
  };
  if (perms !== undefined) entry.perms = perms;
  if (command) entry.command = { command, timeoutMs } satisfies HookCommand;
  return entry;
}

function readExec(root: BodyReader): ExecConfig | undefined {
  const exec = root.child("exec");
  if (!exec) return undefined;
  const command = exec.command("command");
  if (!exec.has("command")) exec.problem("command", "is required");
  const restart = exec.string("restart_on_secret_changes") ?? "always";
  if (restart !== "always" && restart !== "never") {
    exec.problem("restart_on_secret_changes", `expected "always" or "never", not "${restart}"`);
  }
  const signal = exec.string("restart_stop_signal") ?? "SIGTERM";
  if (!(STOP_SIGNALS as readonly string[]).includes(signal))
    exec.problem("restart_stop_signal", `unknown signal "${signal}"`);
  exec.finish();
  if (!command) return undefined;
  return {
    command,
    restartOnSecretChanges: restart !== "never",
    stopSignal: signal as NodeJS.Signals,
    stopTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
  };
}

export async function parseVaultAgentConfig(
  text: string,
  options: { file: string; base: string; env: NodeJS.ProcessEnv; language: "hcl" | "json" },
): Promise<LoadedConfig> {
  const { file, base, env } = options;
  let body: HclBody;
  try {
    body = options.language === "hcl" ? parseHcl(text) : parseJsonConfig(text);
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error;
    throw new ConfigError(file, [`${options.language === "hcl" ? "HCL" : "JSON"}: ${error.message}`]);
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const root = new BodyReader(problems, warnings, "", body);

  const vault = root.child("vault");
  const address = vault?.string("address") || env.VAULT_ADDR?.trim() || env.COFFER_ADDR?.trim();
  if (!address) root.problem("vault", "vault { address = ... } is required (or set VAULT_ADDR)");
  else if (!/^https?:\/\/[^/]/.test(address)) vault?.problem("address", `"${address}" is not an http(s) URL`);
  if (vault?.boolean("tls_skip_verify")) {
    vault.problem("tls_skip_verify", "is not supported: the agent always verifies the server's certificate");
  }
  const retry = vault?.child("retry");
  const numRetries = retry?.integer("num_retries");
  retry?.finish();
  vault?.finish();

  const { auth, sinks, backoff } = readAuth(root, base);

  const secrets: SecretEntry[] = [];
  for (const [index, block] of root.blocks("template").entries()) {
    const entry = await readFileTemplate(root.reader(`template[${index}]`, block.body), base, index);
    if (entry) secrets.push(entry);
  }
  for (const { label, reader } of labelled(root, "env_template")) {
    if (!ENV_NAME.test(label)) reader.problem("", `"${label}" is not an environment variable name`);
    const goTemplate = await readGoTemplate(reader, base, `env_template "${label}"`);
    reader.finish();
    if (goTemplate) secrets.push({ format: "consul-template", goTemplate, env: label });
  }
  const exec = readExec(root);
  const exitAfterAuth = root.boolean("exit_after_auth") ?? false;
  const templateConfig = root.child("template_config");
  const exitOnRetryFailure = templateConfig?.boolean("exit_on_retry_failure") ?? false;
  const renderInterval = templateConfig?.duration("static_secret_render_interval");
  templateConfig?.finish();
  root.finish();

  if (secrets.length === 0 && sinks.length === 0) {
    problems.push("nothing to do: give at least one template, env_template or auto_auth sink");
  }
  const initialMs = backoff.initialMs ?? 1_000;
  const maxMs = Math.max(backoff.maxMs ?? 5 * 60_000, initialMs);
  const config: AgentConfig = {
    address: address ?? "",
    auth: auth as AuthConfig,
    secrets,
    refreshIntervalMs: renderInterval ?? 5 * 60_000,
    backoff: { initialMs, maxMs },
    onceTimeoutMs: 2 * 60_000,
  };
  if (exec) config.exec = exec;
  if (sinks.length > 0) config.sinks = sinks;
  if (exitAfterAuth) config.exitAfterAuth = true;
  if (exitOnRetryFailure) {
    // Vault: 0 means the default, -1 no retries at all.
    config.maxRetries =
      numRetries === undefined || numRetries === 0 ? VAULT_DEFAULT_RETRIES : Math.max(0, numRetries);
  }
  checkEntries(config, problems, "template");
  if (problems.length > 0 || !auth) throw new ConfigError(file, problems);
  return { config, warnings };
}
