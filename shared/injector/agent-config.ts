/**
 * The agent's configuration for an injection: Coffer's agent.yaml (docs/kubernetes.md,
 * "The agent's configuration"), written as JSON, which every YAML parser reads as YAML.
 * The pod carries it in an annotation, and a downwardAPI volume gives it to the agent's
 * containers as a file (inject.ts): no ConfigMap to create, no shell in the image.
 *
 * This is the one place that knows the agent's configuration language: the plan
 * (injection-plan.ts) says what to do in the terms of Vault's annotations.
 */
import type { InjectionPlan, SecretFile } from "./injection-plan.ts";

/** Where the agent's containers mount the projected token, and the token's file name in it. */
export const TOKEN_DIRECTORY = "/var/run/secrets/coffer";
export const TOKEN_FILE = `${TOKEN_DIRECTORY}/token`;
/** Where they mount the configuration, and its file name in it. */
export const CONFIG_DIRECTORY = "/etc/coffer";
export const CONFIG_FILE_NAME = "agent.yaml";
export const CONFIG_FILE = `${CONFIG_DIRECTORY}/${CONFIG_FILE_NAME}`;

function secretEntry(secret: SecretFile): Record<string, string> {
  const entry: Record<string, string> = {};
  if (secret.path !== undefined) entry.path = secret.path;
  entry.destination = secret.destination;
  if (secret.template !== undefined) {
    entry.format = "template";
    entry.template = secret.template;
  } else {
    entry.format = "json";
  }
  return entry;
}

export function agentConfig(plan: InjectionPlan): string {
  const config: Record<string, unknown> = {
    address: plan.address,
    auth: { method: "kubernetes", mount: plan.authMount, role: plan.role, token_file: TOKEN_FILE },
    secrets: plan.secrets.map(secretEntry),
  };
  if (plan.refreshIntervalMs !== undefined)
    config.refresh_interval = `${Math.round(plan.refreshIntervalMs)}ms`;
  const backoff: Record<string, string> = {};
  if (plan.backoff.initialMs !== undefined) backoff.initial = `${Math.round(plan.backoff.initialMs)}ms`;
  if (plan.backoff.maxMs !== undefined) backoff.max = `${Math.round(plan.backoff.maxMs)}ms`;
  if (Object.keys(backoff).length > 0) config.backoff = backoff;
  return `${JSON.stringify(config, null, 2)}\n`;
}
