/**
 * What a person types as data, read the way the vault CLI reads it:
 *   key=value       a string value
 *   key=@file       the value is the file's content
 *   key=-           the value is read from standard input (one trailing newline dropped)
 *   @file.json      a JSON object from a file, merged in
 *   -               a JSON object from standard input
 */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError } from "commander";
import { UsageError } from "./exit-codes.ts";

export async function readStdinBytes(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readStdin(): Promise<string> {
  return (await readStdinBytes()).toString("utf8");
}

async function readInputFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${file}: ${code === "ENOENT" ? "no such file" : (code ?? String(error))}`,
    );
  }
}

function jsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${source} is not valid JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`${source} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

export async function parseKeyValues(args: readonly string[]): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  let stdinUsed = false;
  const stdinOnce = async (what: string) => {
    if (stdinUsed) throw new UsageError(`standard input can be read only once (${what})`);
    stdinUsed = true;
    return readStdin();
  };
  for (const arg of args) {
    if (arg === "-") {
      Object.assign(data, jsonObject(await stdinOnce("-"), "standard input"));
      continue;
    }
    if (arg.startsWith("@")) {
      Object.assign(data, jsonObject(await readInputFile(arg.slice(1)), arg.slice(1)));
      continue;
    }
    const equals = arg.indexOf("=");
    if (equals <= 0) throw new UsageError(`expected key=value, key=@file, key=- or @file.json, got "${arg}"`);
    const key = arg.slice(0, equals);
    const value = arg.slice(equals + 1);
    if (value === "-") data[key] = (await stdinOnce(key)).replace(/\r?\n$/, "");
    else if (value.startsWith("@")) data[key] = await readInputFile(value.slice(1));
    else data[key] = value;
  }
  return data;
}

/** "1,2,3" -> [1, 2, 3]: KV version numbers. */
export function parseVersions(text: string): number[] {
  const versions = text.split(",").map((item) => item.trim());
  if (versions.some((item) => !/^[1-9]\d*$/.test(item))) {
    throw new UsageError(
      `invalid versions "${text}": expected positive integers separated by commas, e.g. 1,2`,
    );
  }
  return versions.map(Number);
}

/** A value given as an argument, or read from standard input when it is "-" or absent. */
export async function argumentOrStdin(value: string | undefined, what: string): Promise<string> {
  if (value !== undefined && value !== "-") return value;
  if (process.stdin.isTTY)
    throw new UsageError(`missing ${what}: pass it as an argument or on standard input`);
  const text = (await readStdin()).replace(/\r?\n$/, "");
  if (text === "") throw new UsageError(`missing ${what}: standard input was empty`);
  return text;
}

/** A commander argument parser for a count or a version number. */
export function nonNegativeInteger(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected ${name} as a non-negative integer`);
    return Number(value);
  };
}
