/**
 * Route fields, declared once per route as Vault declares a path's field schema: name,
 * type, default, description, and whether the value is a path parameter. The router
 * parses a request's data against them before the handler runs and hands it typed values
 * (`request.fields`), as Vault's FieldData does:
 *
 * - path parameters are fields: the value captured from the path wins over one of the
 *   same name in the body, which Vault names in a warning;
 * - a field the route does not declare is ignored, and named in Vault's warning
 *   "Endpoint ignored these unrecognized parameters: [a b]";
 * - a declared field of the wrong type is a 400 naming the field. Coffer keeps Vault's
 *   leniency where Vault clients rely on it: numbers and booleans may arrive as strings
 *   (query parameters, form-style clients), durations as "1h" or seconds, lists as one
 *   comma-separated string.
 *
 * A field Coffer knows but cannot honour is declared like any other, and its handler
 * refuses a value it cannot honour with a 400 that says so.
 */
import { invalidRequest } from "../errors.ts";
import type { JsonObject } from "./json.ts";

interface Described {
  /** What the field means, in a sentence. */
  description: string;
}

/** A value taken from the route's pattern: its named group of the same name. */
export interface PathField extends Described {
  type: "string";
  path: true;
}

export interface StringField extends Described {
  type: "string";
  default?: string;
  /**
   * Absent or "" is a 400 naming the field, whatever the operation: for a field only some
   * operations need, the handler calls requireValue instead.
   */
  required?: true;
}

export interface IntegerField extends Described {
  type: "integer";
  default?: number;
  min?: number;
  max?: number;
}

export interface BooleanField extends Described {
  type: "boolean";
  default?: boolean;
}

/** Seconds, from a number of seconds, "90", or Go-style "1h30m", "10m", "45s", "7d". */
export interface DurationField extends Described {
  type: "duration";
  default?: number;
}

export interface ObjectField extends Described {
  type: "object";
}

/** A list of strings, also accepted as one comma-separated string (Vault's TypeCommaStringSlice). */
export interface StringListField extends Described {
  type: "stringList";
}

/** A list of strings in which one string is one item, never split (Vault's TypeStringSlice). */
export interface StringSliceField extends Described {
  type: "stringSlice";
}

/** A list of integers, also accepted as one integer or "1,2" (Vault's TypeCommaIntSlice). */
export interface IntegerListField extends Described {
  type: "integerList";
  min?: number;
}

/** The value as sent, null included, for a handler that checks it itself (a batch, a signed duration). */
export interface AnyField extends Described {
  type: "any";
}

export type Field =
  | PathField
  | StringField
  | IntegerField
  | BooleanField
  | DurationField
  | ObjectField
  | StringListField
  | StringSliceField
  | IntegerListField
  | AnyField;

export type FieldSchema = Readonly<Record<string, Field>>;

type ValueOf<F extends Field> = F extends { type: "string" }
  ? string
  : F extends { type: "integer" | "duration" }
    ? number
    : F extends { type: "boolean" }
      ? boolean
      : F extends { type: "object" }
        ? JsonObject
        : F extends { type: "stringList" | "stringSlice" }
          ? string[]
          : F extends { type: "integerList" }
            ? number[]
            : unknown;

/** Fields that always have a value: path parameters, required fields and fields with a default. */
type AlwaysSet<F extends Field> = F extends { path: true }
  ? true
  : F extends { required: true }
    ? true
    : F extends { default: unknown }
      ? true
      : false;

/** The typed values of a schema's fields: undefined for one the request did not give. */
export type FieldValues<S extends FieldSchema> = {
  [K in keyof S]: AlwaysSet<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

const fieldError = (name: string, expected: string) =>
  invalidRequest(`invalid value for "${name}": expected ${expected}`);

/** Absent: not given, null, or (for scalars other than strings) the empty string. */
const absent = (value: unknown) => value === undefined || value === null;

function parseString(value: unknown, name: string): string {
  if (typeof value !== "string") throw fieldError(name, "a string");
  return value;
}

function parseInteger(value: unknown, name: string, field: { min?: number; max?: number }): number {
  const number = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number)) throw fieldError(name, "an integer");
  if (field.min !== undefined && number < field.min) throw fieldError(name, `an integer >= ${field.min}`);
  if (field.max !== undefined && number > field.max) throw fieldError(name, `an integer <= ${field.max}`);
  return number;
}

function parseBoolean(value: unknown, name: string): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw fieldError(name, "a boolean");
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

function parseObject(value: unknown, name: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw fieldError(name, "an object");
  return value as JsonObject;
}

function parseStringList(value: unknown, name: string): string[] {
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

function parseStringSlice(value: unknown, name: string): string[] {
  if (typeof value === "string") return value === "" ? [] : [value];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw fieldError(name, "a string or a list of strings");
  }
  return value as string[];
}

function parseIntegerList(value: unknown, name: string, min: number | undefined): number[] {
  const items = typeof value === "string" ? value.split(",").filter((item) => item.trim() !== "") : value;
  const list = Array.isArray(items) ? items : [items];
  const expected = min === undefined ? "a list of integers" : `a list of integers >= ${min}`;
  return list.map((item) => {
    const number = typeof item === "string" && /^-?\d+$/.test(item.trim()) ? Number(item) : item;
    if (typeof number !== "number" || !Number.isSafeInteger(number)) throw fieldError(name, expected);
    if (min !== undefined && number < min) throw fieldError(name, expected);
    return number;
  });
}

/** One field's value, or undefined when the request did not give it. */
export function parseField(field: Field, value: unknown, name: string): unknown {
  if (field.type === "any") return value;
  if (absent(value)) return undefined;
  // An empty string gives no number, boolean or duration: the field counts as not given.
  const scalar = field.type === "integer" || field.type === "boolean" || field.type === "duration";
  if (scalar && value === "") return undefined;
  switch (field.type) {
    case "string":
      return parseString(value, name);
    case "integer":
      return parseInteger(value, name, field);
    case "boolean":
      return parseBoolean(value, name);
    case "duration":
      return parseDuration(value, name);
    case "object":
      return parseObject(value, name);
    case "stringList":
      return parseStringList(value, name);
    case "stringSlice":
      return parseStringSlice(value, name);
    case "integerList":
      return parseIntegerList(value, name, field.min);
  }
}

export interface ParsedFields {
  values: Record<string, unknown>;
  /** Given but not declared: Vault ignores them and names them in a warning. */
  ignored: string[];
  /** Given in the data and captured from the path: the path's value won. */
  replaced: string[];
}

/**
 * The request's data checked against a route's fields, with the path's captures merged
 * in. Throws a 400 naming the first field that does not parse.
 */
export function parseFields(
  schema: FieldSchema,
  data: JsonObject,
  captures: Readonly<Record<string, string>>,
  options: { takesArbitraryData?: boolean } = {},
): ParsedFields {
  const ignored = options.takesArbitraryData
    ? []
    : Object.keys(data)
        .filter((name) => !Object.hasOwn(schema, name))
        .sort();
  const replaced = Object.keys(captures)
    .filter((name) => !absent(data[name]))
    .sort();
  const values: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema)) {
    if ("path" in field) {
      values[name] = captures[name] ?? "";
      continue;
    }
    const value = Object.hasOwn(data, name) ? parseField(field, data[name], name) : undefined;
    if ("required" in field && field.required && (value === undefined || value === "")) {
      throw invalidRequest(`missing required field "${name}"`);
    }
    values[name] = value === undefined && "default" in field ? field.default : value;
  }
  return { values, ignored, replaced };
}

/** A field an operation needs: absent or "" is a 400 naming it. */
export function requireValue<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === "") throw invalidRequest(`missing required field "${name}"`);
  return value;
}

/** Vault's warnings for what it did not take as given. */
export function fieldWarnings(parsed: Pick<ParsedFields, "ignored" | "replaced">): string[] {
  const warnings: string[] = [];
  if (parsed.ignored.length > 0) {
    warnings.push(`Endpoint ignored these unrecognized parameters: [${parsed.ignored.join(" ")}]`);
  }
  if (parsed.replaced.length > 0) {
    warnings.push(
      "Endpoint replaced the value of these parameters with the values captured from the endpoint's " +
        `path: [${parsed.replaced.join(" ")}]`,
    );
  }
  return warnings;
}

/**
 * Refuses the fields of Vault features an engine does not implement when they are set;
 * empty values pass, since tools that send every field send these for "off".
 */
export function rejectNonEmptyFields(values: Readonly<Record<string, unknown>>, engine: string): void {
  for (const [name, value] of Object.entries(values)) {
    if (!isEmptyValue(value)) throw invalidRequest(`"${name}" is not supported by Coffer's ${engine} engine`);
  }
}

/** Whether a value counts as not set: tools that send every field send these for "off". */
export function isEmptyValue(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === "" ||
    value === 0 ||
    value === false ||
    value === "0" ||
    value === "false" ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)
  );
}
