/**
 * Typed reads of request fields with Vault's leniency where Vault clients rely on it
 * (numbers and booleans may arrive as strings from query parameters and form-style
 * clients; durations as "1h" or seconds) and a clear 400 naming the field otherwise.
 */
import type { JsonObject } from "../engines/engine.ts";
import { invalidRequest } from "../errors.ts";

const fieldError = (name: string, expected: string) =>
  invalidRequest(`invalid value for "${name}": expected ${expected}`);

export function optionalString(data: JsonObject, name: string): string | undefined {
  const value = data[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw fieldError(name, "a string");
  return value;
}

export function requiredString(data: JsonObject, name: string): string {
  const value = optionalString(data, name);
  if (value === undefined || value === "") throw invalidRequest(`missing required field "${name}"`);
  return value;
}

export function optionalInteger(data: JsonObject, name: string, range: { min?: number; max?: number } = {}) {
  const value = data[name];
  if (value === undefined || value === null || value === "") return undefined;
  const number = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number)) throw fieldError(name, "an integer");
  if (range.min !== undefined && number < range.min) throw fieldError(name, `an integer >= ${range.min}`);
  if (range.max !== undefined && number > range.max) throw fieldError(name, `an integer <= ${range.max}`);
  return number;
}

export function optionalBoolean(data: JsonObject, name: string): boolean | undefined {
  const value = data[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw fieldError(name, "a boolean");
}

export function optionalObject(data: JsonObject, name: string): JsonObject | undefined {
  const value = data[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw fieldError(name, "an object");
  return value as JsonObject;
}

/** A string list, also accepted as one comma-separated string (as the vault CLI sends). */
export function optionalStringList(data: JsonObject, name: string): string[] | undefined {
  const value = data[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") {
    return value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
  }
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw fieldError(name, "a list of strings");
  }
  return value as string[];
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from a number of seconds, "90", or Go-style "1h30m", "10m", "45s", "7d". */
export function parseDuration(value: unknown, name: string): number {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) throw fieldError(name, "a non-negative duration");
    return value;
  }
  if (typeof value !== "string") throw fieldError(name, 'a duration such as "1h" or 3600');
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[smhd])+$/.test(text)) throw fieldError(name, 'a duration such as "1h" or 3600');
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhd])/g)) {
    seconds += Number(amount) * (DURATION_UNITS[unit as string] ?? 0);
  }
  if (!Number.isSafeInteger(seconds)) throw fieldError(name, "a shorter duration");
  return seconds;
}

export function optionalDuration(data: JsonObject, name: string): number | undefined {
  const value = data[name];
  if (value === undefined || value === null || value === "") return undefined;
  return parseDuration(value, name);
}

/** Refuses fields the endpoint does not know, so a typo is an error rather than ignored. */
export function rejectUnknownFields(data: JsonObject, known: readonly string[]): void {
  const unknown = Object.keys(data).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw invalidRequest(`unknown fields: ${unknown.sort().join(", ")}`);
}

/** Vault's warning for fields an endpoint ignores (where Vault ignores rather than refuses them). */
export function ignoredFieldsWarning(data: JsonObject, known: readonly string[]): string | undefined {
  const unknown = Object.keys(data).filter((key) => !known.includes(key));
  return unknown.length > 0
    ? `Endpoint ignored these unrecognized parameters: [${unknown.sort().join(" ")}]`
    : undefined;
}

/** An integer list, also accepted as one integer or a comma-separated string (the vault CLI's "1,2"). */
export function optionalIntegerList(
  data: JsonObject,
  name: string,
  range: { min?: number } = {},
): number[] | undefined {
  const value = data[name];
  if (value === undefined || value === null) return undefined;
  const items = typeof value === "string" ? value.split(",").filter((item) => item.trim() !== "") : value;
  const list = Array.isArray(items) ? items : [items];
  const expected = range.min === undefined ? "a list of integers" : `a list of integers >= ${range.min}`;
  return list.map((item) => {
    const number = typeof item === "string" && /^-?\d+$/.test(item.trim()) ? Number(item) : item;
    if (typeof number !== "number" || !Number.isSafeInteger(number)) throw fieldError(name, expected);
    if (range.min !== undefined && number < range.min) throw fieldError(name, expected);
    return number;
  });
}

/**
 * A string list in which one string is one item (Vault's TypeStringSlice): unlike
 * optionalStringList it never splits on commas, which SQL statements contain.
 */
export function optionalStringSlice(data: JsonObject, name: string): string[] | undefined {
  const value = data[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value === "" ? [] : [value];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw fieldError(name, "a string or a list of strings");
  }
  return value as string[];
}

/** Fields of Vault features an engine does not implement: accepted when empty (tools send every field). */
export function rejectNonEmptyFields(data: JsonObject, names: readonly string[], engine: string): void {
  for (const name of names) {
    const value = data[name];
    const empty =
      value === undefined ||
      value === null ||
      value === "" ||
      value === 0 ||
      value === false ||
      value === "0" ||
      value === "false" ||
      (Array.isArray(value) && value.length === 0) ||
      (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);
    if (!empty) throw invalidRequest(`"${name}" is not supported by Coffer's ${engine} engine`);
  }
}
