/**
 * How Go's text/template sees the values it works on, for the values the agent gives it
 * (JSON data from the API, and the secret structure): what is true in an `if`, how a value
 * prints (fmt's %v), and Go's "no value" for a map key that is not there.
 */

/**
 * What a missing map key evaluates to: Go prints it as "<no value>". It remembers the key,
 * so an error about it can say which one was missing.
 */
export class NoValue {
  constructor(readonly key: string | undefined) {}
}

export const NO_VALUE = new NoValue(undefined);

export function isNoValue(value: unknown): value is NoValue {
  return value instanceof NoValue;
}

/** A Go struct: its fields are the only names a template can select, in this order. */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {}
}

export type GoMap = Record<string, unknown>;

export function isMap(value: unknown): value is GoMap {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof GoStruct) &&
    !(value instanceof NoValue)
  );
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false; structs are true. */
export function isTrue(value: unknown): boolean {
  if (value instanceof NoValue || value === null || value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value !== "";
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof GoStruct) return true;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/** The name of a value's type, as Go's error messages give it. */
export function typeName(value: unknown): string {
  if (value instanceof NoValue || value === null || value === undefined) return "interface {}";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  if (Array.isArray(value)) return "[]interface {}";
  if (value instanceof GoStruct) return value.typeName;
  return "map[string]interface {}";
}

/** Go's %v of a number: integers without a fraction, floats in the shortest form. */
function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const text = String(value);
  // Go writes exponents with at least two digits: 1e+21, 1e-07.
  return text.replace(/e([+-])(\d)$/, "e$10$2");
}

/** fmt's %v: how `{{ . }}` prints a value. */
export function printValue(value: unknown): string {
  if (value instanceof NoValue) return "<no value>";
  if (value === null || value === undefined) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(nested).join(" ")}]`;
  if (value instanceof GoStruct) return `&{${Object.values(value.fields).map(nested).join(" ")}}`;
  const entries = Object.keys(value as GoMap)
    .sort()
    .map((key) => `${key}:${nested((value as GoMap)[key])}`);
  return `map[${entries.join(" ")}]`;
}

/** Inside a slice or a map, nil prints as <nil> too. */
function nested(value: unknown): string {
  return value instanceof NoValue ? "<nil>" : printValue(value);
}
