/**
 * How a command prints what the server answered: a table for people (Vault's "Key Value"
 * layout), JSON for scripts (`-format=json`, `--format json` or `--json`, or
 * COFFER_FORMAT / VAULT_FORMAT), or a single field's bare value (`-field=name`), which
 * ends without a newline so it can be piped as is.
 */
import type { Command } from "commander";
import { UsageError } from "./exit-codes.ts";

export type Format = "table" | "json";

export interface OutputOptions {
  format?: string;
  json?: boolean;
  field?: string;
}

export function addOutputOptions(command: Command): Command {
  return command
    .option("--format <format>", "output format: table or json (also COFFER_FORMAT)")
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
  if (format !== "table" && format !== "json") {
    throw new UsageError(`unknown format "${format}": use table or json`);
  }
  return format;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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

export function table(rows: Rows): string {
  const width = Math.max(3, ...rows.map(([key]) => key.length));
  const line = (key: string, value: string) => `${key.padEnd(width)}    ${value}`.trimEnd();
  return [
    line("Key", "Value"),
    line("---", "-----"),
    ...rows.map(([key, value]) => line(key, formatValue(value))),
  ]
    .join("\n")
    .concat("\n");
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
  if (!data || !Object.hasOwn(data, name)) throw new Error(`field "${name}" is not present in the response`);
  const value = data[name];
  process.stdout.write(typeof value === "string" ? value : JSON.stringify(value));
}

export function rowsOf(data: Record<string, unknown> | null | undefined): [string, unknown][] {
  return Object.entries(data ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** The one-line confirmation of a write that returns nothing; silent in JSON output. */
export function printSuccess(options: OutputOptions, message: string): void {
  if (outputFormat(options) === "table") process.stdout.write(`Success! ${message}\n`);
}
