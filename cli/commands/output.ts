/**
 * How a command prints what the server answered, in the vault CLI's shapes: a table for
 * people (Vault's "Key Value" layout), JSON or YAML for scripts (`-format=json`,
 * `--format yaml`, `--json`, or COFFER_FORMAT / VAULT_FORMAT), or a single field's bare
 * value (`-field=name`), which ends without a newline so it can be piped as is.
 */
import type { Command } from "commander";
import type { VaultResponse } from "../client.ts";
import { LocalError } from "./exit-codes.ts";

export type Format = "table" | "json" | "yaml";

export interface OutputOptions {
  format?: string;
  json?: boolean;
  field?: string;
}

export function addOutputOptions(command: Command): Command {
  return command
    .option("--format <format>", "output format: table, json or yaml (also COFFER_FORMAT)")
    .option("--json", "same as --format json")
    .option("--field <name>", "print only this field's value, without a trailing newline");
}

export function outputFormat(options: OutputOptions): Format {
  if (options.json) return "json";
  const format = (
    options.format ??
    process.env.COFFER_FORMAT ??
    process.env.VAULT_FORMAT ??
    "table"
  ).toLowerCase();
  if (format === "yml") return "yaml";
  if (format !== "table" && format !== "json" && format !== "yaml") {
    throw new LocalError(`unknown format "${format}": use table, json or yaml`);
  }
  return format;
}

/** A value in JSON or YAML; the YAML printer is loaded only when asked for. */
export async function printFormatted(format: "json" | "yaml", value: unknown): Promise<void> {
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  // yaml is a CommonJS package: its functions are on the module's default export, both as
  // Node loads it from node_modules and in the command's bundle, whose chunk for it exports
  // nothing else.
  const { stringify } = (await import("yaml")).default;
  // Sorted, as the vault CLI's YAML is: it goes through a map.
  process.stdout.write(stringify(value ?? null, { sortMapEntries: true }));
}

/** Prints the value in JSON or YAML when one is asked for; false when the format is a table. */
export async function printStructured(options: OutputOptions, value: unknown): Promise<boolean> {
  const format = outputFormat(options);
  if (format === "table") return false;
  await printFormatted(format, value);
  return true;
}

/**
 * Seconds as the vault CLI shows them: Go's duration without the zero units it would
 * end with (3600 -> "1h", 5400 -> "1h30m", 90 -> "1m30s").
 */
export function humanDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const whole = Math.trunc(seconds);
  const hours = Math.trunc(whole / 3600);
  const minutes = Math.trunc((whole % 3600) / 60);
  const rest = whole % 60;
  let text = hours > 0 ? `${hours}h${minutes}m${rest}s` : minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`;
  if (text.endsWith("m0s")) text = text.slice(0, -2);
  return text.replace(/h0m/, "h");
}

/** The keys whose numbers the vault CLI shows as durations. */
function looksLikeDuration(key: string): boolean {
  return /(^|_)(period|ttl|duration)$/.test(key) || key === "lease_max" || key === "ttl_max";
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "n/a";
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((item) => typeof item !== "object" || item === null)) {
    return `[${value.map((item) => String(item)).join(" ")}]`;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export type Rows = ReadonlyArray<readonly [string, unknown]>;

/** Columns separated by four spaces, each header underlined, as the vault CLI lays them out. */
export function columns(header: readonly string[], lines: ReadonlyArray<readonly string[]>): string {
  const all = [header, header.map((title) => "-".repeat(title.length)), ...lines];
  const widths = header.map((_, index) => Math.max(...all.map((line) => (line[index] ?? "").length)));
  return all
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join("    ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

export function table(rows: Rows): string {
  return columns(
    ["Key", "Value"],
    rows.map(([key, value]) => [key, formatValue(value)]),
  );
}

/** "==== Title ====", as Vault heads the sections of a KV secret. */
export function heading(title: string): string {
  return `${"=".repeat(6)} ${title} ${"=".repeat(6)}\n`;
}

export function printTable(rows: Rows): void {
  process.stdout.write(table(rows));
}

/** A field's bare value: strings as they are, anything else as JSON. */
export function printField(data: Record<string, unknown> | null | undefined, name: string): void {
  if (!data || !Object.hasOwn(data, name) || data[name] === undefined) {
    throw new LocalError(`field "${name}" is not present in the response`);
  }
  const value = data[name];
  process.stdout.write(typeof value === "string" ? value : JSON.stringify(value));
}

/** Sorted by key; numbers under duration-like keys shown as durations. */
export function rowsOf(data: Record<string, unknown> | null | undefined): [string, unknown][] {
  return Object.entries(data ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => [
      key,
      typeof value === "number" && looksLikeDuration(key) ? humanDuration(value) : value,
    ]);
}

/**
 * The fields of a response that `-field` can name, as the vault CLI finds them: the
 * lease's and the token's, then the data's own.
 */
export function fieldsOf(response: VaultResponse | undefined): Record<string, unknown> {
  if (!response) return {};
  const lease =
    response.lease_duration > 0
      ? response.lease_id
        ? {
            lease_id: response.lease_id,
            lease_duration: response.lease_duration,
            lease_renewable: response.renewable,
          }
        : { refresh_interval: response.lease_duration }
      : {};
  const auth = response.auth
    ? {
        token: response.auth.client_token,
        token_accessor: response.auth.accessor,
        token_duration: response.auth.lease_duration,
        token_renewable: response.auth.renewable,
        token_policies: response.auth.token_policies ?? response.auth.policies,
        identity_policies: response.auth.identity_policies ?? [],
        policies: response.auth.policies,
      }
    : {};
  return { ...response.data, ...lease, ...auth };
}

/**
 * A response as the vault CLI's table shows it: the lease (or the refresh interval of a
 * secret without one), the token an auth block carries (without the token itself when
 * `showToken` is false: it was stored, not shown), then the data, sorted.
 */
export function secretRows(response: VaultResponse, { showToken = true } = {}): Rows {
  const rows: [string, unknown][] = [];
  if (response.lease_duration > 0) {
    if (response.lease_id) {
      rows.push(
        ["lease_id", response.lease_id],
        ["lease_duration", humanDuration(response.lease_duration)],
        ["lease_renewable", response.renewable],
      );
    } else {
      rows.push(["refresh_interval", humanDuration(response.lease_duration)]);
    }
  }
  const auth = response.auth;
  if (auth) {
    if (showToken) rows.push(["token", auth.client_token]);
    rows.push(
      ["token_accessor", auth.accessor],
      ["token_duration", auth.lease_duration === 0 ? "∞" : humanDuration(auth.lease_duration)],
      ["token_renewable", auth.renewable],
      ["token_policies", auth.token_policies ?? auth.policies],
      ["identity_policies", auth.identity_policies ?? []],
      ["policies", auth.policies],
      ...Object.entries(auth.metadata ?? {}).map(
        ([key, value]) => [`token_meta_${key}`, value] as [string, unknown],
      ),
    );
  }
  rows.push(...rowsOf(response.data));
  return rows;
}

/** The server's warnings, on stderr as the vault CLI prints them above a table. */
export function printWarnings(response: VaultResponse): void {
  if (!response.warnings?.length) return;
  process.stderr.write(
    `WARNING! The following warnings were returned from the server:\n\n${response.warnings.map((warning) => `  * ${warning}\n\n`).join("")}`,
  );
}

/**
 * A response, as the vault CLI's read and write print one: one field, the whole
 * envelope in JSON or YAML, or the table of `secretRows`.
 */
export async function printSecret(
  response: VaultResponse,
  options: OutputOptions,
  tableOptions?: { showToken?: boolean },
): Promise<void> {
  if (options.field) return printField(fieldsOf(response), options.field);
  if (await printStructured(options, response)) return;
  printWarnings(response);
  const rows = secretRows(response, tableOptions);
  if (rows.length > 0) printTable(rows);
}

/** A list of keys: one per line under "Keys" in a table, the array in JSON or YAML. */
export async function printKeys(keys: readonly string[], options: OutputOptions): Promise<void> {
  if (await printStructured(options, keys)) return;
  process.stdout.write(
    columns(
      ["Keys"],
      [...keys].sort().map((key) => [key]),
    ),
  );
}

/** The one-line confirmation of a write that returns nothing; silent in JSON and YAML. */
export function printSuccess(options: OutputOptions, message: string): void {
  if (outputFormat(options) === "table") process.stdout.write(`Success! ${message}\n`);
}
