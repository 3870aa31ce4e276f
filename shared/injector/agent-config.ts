/**
 * The agent's configuration for an injection, in Vault Agent's JSON, shaped as Vault's
 * injector shapes it: `vault.address`, `auto_auth` with the kubernetes method and its
 * backoff (and a file sink for agent-inject-token), one `template` per secret with its
 * consul-template `contents`, and `template_config`. The files are named `.json`, which
 * is how the agent knows to read Vault Agent's language. There are two, as with Vault:
 * the init container's, which exits once every file is written (`exit_after_auth`), and
 * the sidecar's. The pod carries them in annotations, and a downwardAPI volume gives them
 * to the agent's containers as files (inject.ts): no ConfigMap to create, no shell in the
 * image.
 *
 * This is the one place that knows the agent's configuration language: the plan
 * (injection-plan.ts) says what to do in the terms of Vault's annotations.
 */
import type { InjectionPlan, SecretFile } from "./injection-plan.ts";

/** Where the agent's containers mount the projected token, and the token's file name in it. */
export const TOKEN_DIRECTORY = "/var/run/secrets/coffer";
export const TOKEN_FILE = `${TOKEN_DIRECTORY}/token`;
/** Where they mount the configurations, and their file names in it. */
export const CONFIG_DIRECTORY = "/etc/coffer";
export const SIDECAR_CONFIG_FILE_NAME = "config.json";
export const INIT_CONFIG_FILE_NAME = "config-init.json";

type Json = string | number | boolean | Json[] | { [key: string]: Json };

/**
 * Vault's injector's templates for a secret without one: `map` writes each field of the
 * response's data as `key: value` in Go's %v (a KV version 2 secret's `data` and
 * `metadata` print as Go maps), `json` the response's data as JSON. The path is a Go
 * string literal (JSON's escapes are Go's too), in the secret's own delimiters.
 */
function defaultTemplate(secret: SecretFile, kind: InjectionPlan["defaultTemplate"]): string {
  const left = secret.delimiters?.left ?? "{{";
  const right = secret.delimiters?.right ?? "}}";
  const path = JSON.stringify(secret.path ?? "");
  const action = (inside: string) => `${left} ${inside} ${right}`;
  const body =
    kind === "json"
      ? `${action(".Data | toJSON")}\n`
      : `${action("range $k, $v := .Data")}${action("$k")}: ${action("$v")}\n${action("end")}`;
  return `${action(`with secret ${path}`)}${body}${action("end")}`;
}

/** A duration as Go writes one, in the largest unit that keeps it whole ("2m", "500ms"). */
function goDuration(ms: number): string {
  const whole = Math.round(ms);
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (whole > 0 && whole % size === 0) return `${whole / size}${unit}`;
  }
  return `${whole}ms`;
}

function templateEntry(secret: SecretFile, plan: InjectionPlan): Json {
  const entry: Record<string, Json> = {
    destination: secret.destination,
    contents: secret.template ?? defaultTemplate(secret, plan.defaultTemplate),
  };
  if (secret.delimiters?.left !== undefined) entry.left_delimiter = secret.delimiters.left;
  if (secret.delimiters?.right !== undefined) entry.right_delimiter = secret.delimiters.right;
  if (secret.perms !== undefined) entry.perms = secret.perms;
  if (secret.command !== undefined) entry.command = secret.command;
  if (secret.errorOnMissingKey !== undefined) entry.error_on_missing_key = secret.errorOnMissingKey;
  return entry;
}

/** `init`: the init container's configuration, which exits once every file is written. */
export function agentConfig(plan: InjectionPlan, { init }: { init: boolean }): string {
  const method: Record<string, Json> = { type: "kubernetes", mount_path: `auth/${plan.authMount}` };
  if (plan.backoff.initialMs !== undefined) method.min_backoff = goDuration(plan.backoff.initialMs);
  if (plan.backoff.maxMs !== undefined) method.max_backoff = goDuration(plan.backoff.maxMs);
  method.config = { role: plan.role, token_path: TOKEN_FILE };
  const autoAuth: Record<string, Json> = { method };
  if (plan.tokenSink) autoAuth.sink = [{ type: "file", config: { path: plan.tokenSink.path } }];

  const templateConfig: Record<string, Json> = { exit_on_retry_failure: plan.exitOnRetryFailure };
  if (plan.refreshIntervalMs !== undefined)
    templateConfig.static_secret_render_interval = goDuration(plan.refreshIntervalMs);

  const config: Record<string, Json> = {
    vault: { address: plan.address },
    auto_auth: autoAuth,
    exit_after_auth: init,
    template: plan.secrets.map((secret) => templateEntry(secret, plan)),
    template_config: templateConfig,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
