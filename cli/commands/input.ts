/**
 * What a person types as data, read the way the vault CLI reads it:
 *   key=value       a string value; a key given twice or more becomes a list
 *   key=@file       the value is the file's content (key=\@text is the text "@text")
 *   key=-           the value is read from standard input (one trailing newline dropped)
 *   @file.json      a JSON object from a file, merged in
 *   -               a JSON object from standard input, merged in
 * An argument with "=" is always a pair: "@key=value" is the key "@key".
 */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError } from "commander";
import { parseDuration } from "../../shared/engines/fields.ts";
import { LocalError } from "./exit-codes.ts";

export async function readStdinBytes(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readStdin(): Promise<string> {
  return (await readStdinBytes()).toString("utf8");
}

/** A file a command was given, read; a file that cannot be read is the caller's mistake. */
export async function readInputFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LocalError(
      `cannot read ${file}: ${code === "ENOENT" ? "no such file" : (code ?? String(error))}`,
    );
  }
}

function jsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LocalError(`${source} is not valid JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new LocalError(`${source} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

export async function parseKeyValues(args: readonly string[]): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  let stdinUsed = false;
  const stdinOnce = async (what: string) => {
    if (stdinUsed) throw new LocalError(`standard input can be read only once (${what})`);
    stdinUsed = true;
    return readStdin();
  };
  for (const arg of args) {
    const equals = arg.indexOf("=");
    if (equals === -1 && arg === "-") {
      Object.assign(data, jsonObject(await stdinOnce("-"), "standard input"));
      continue;
    }
    if (equals === -1 && arg.startsWith("@")) {
      Object.assign(data, jsonObject(await readInputFile(arg.slice(1)), arg.slice(1)));
      continue;
    }
    if (equals <= 0) throw new LocalError(`expected key=value, key=@file, key=- or @file.json, got "${arg}"`);
    const key = arg.slice(0, equals);
    let value = arg.slice(equals + 1);
    if (value === "-") value = (await stdinOnce(key)).replace(/\r?\n$/, "");
    else if (value.startsWith("@")) value = await readInputFile(value.slice(1));
    else if (value.startsWith("\\@")) value = value.slice(1);
    const existing = data[key];
    data[key] = !Object.hasOwn(data, key)
      ? value
      : Array.isArray(existing)
        ? [...existing, value]
        : [existing, value];
  }
  return data;
}

/** key=value pairs as query parameters, for reads and deletes that take data. */
export async function parseQuery(args: readonly string[]): Promise<Record<string, string | string[]>> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(await parseKeyValues(args))) {
    query[key] = Array.isArray(value) ? value.map(queryValue) : queryValue(value);
  }
  return query;
}

function queryValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** "1,2,3" -> [1, 2, 3]: KV version numbers. */
export function parseVersions(text: string): number[] {
  const versions = text.split(",").map((item) => item.trim());
  if (versions.some((item) => !/^[1-9]\d*$/.test(item))) {
    throw new LocalError(
      `invalid versions "${text}": expected positive integers separated by commas, e.g. 1,2`,
    );
  }
  return versions.map(Number);
}

/** A value given as an argument, or read from standard input when it is "-" or absent. */
export async function argumentOrStdin(value: string | undefined, what: string): Promise<string> {
  if (value !== undefined && value !== "-") return value;
  if (process.stdin.isTTY)
    throw new LocalError(`missing ${what}: pass it as an argument or on standard input`);
  const text = (await readStdin()).replace(/\r?\n$/, "");
  if (text === "") throw new LocalError(`missing ${what}: standard input was empty`);
  return text;
}

/** A commander argument parser for a count or a version number. */
export function nonNegativeInteger(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected ${name} as a non-negative integer`);
    return Number(value);
  };
}

/** A commander argument parser for a duration ("30m", "1h30m", "7d" or seconds), kept as typed. */
export function durationArgument(value: string): string {
  try {
    parseDuration(value, "duration");
  } catch {
    throw new InvalidArgumentError('expected a duration such as "30m", "1h30m" or 3600');
  }
  return value;
}

/** A commander argument parser for true or false. */
export function booleanArgument(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InvalidArgumentError("expected true or false");
}

/** A commander collector for a repeatable key=value option (`-options=version=2 -options=x=y`). */
export function keyValueArgument(value: string, previous: Record<string, string> | undefined) {
  const equals = value.indexOf("=");
  if (equals <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

/** A commander collector for a repeatable option (`-policy=a -policy=b`). */
export function listArgument(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A path as typed, without the spaces and slashes around it, as the vault CLI takes it. */
export function trimPath(path: string): string {
  return path.trim().replace(/^\/+|\/+$/g, "");
}
