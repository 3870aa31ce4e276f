/**
 * The functions a Go-syntax template can call: text/template's built-ins and the
 * consul-template functions Vault Agent templates use. `secret`, `env` and `file` reach
 * outside the template through the host the agent hands in; the rest are pure.
 */
import { createHash } from "node:crypto";
import { GoStruct, isMap, isNoValue, isTrue, NoValue, printValue, typeName } from "./go-values.ts";
import { sprintf } from "./printf.ts";

/** What a template can reach outside itself. */
export interface TemplateHost {
  /** consul-template's `secret`: a read, or with "k=v" arguments a write; nil while not read yet. */
  secret(path: string, data: readonly string[]): GoStruct | null;
  env(name: string): string;
  file(path: string): string;
}

/** A failure inside a function, reported at the call with the function's name. */
export class FunctionError extends Error {}

type GoFunction = (args: unknown[], host: TemplateHost) => unknown;

interface Definition {
  /** [min, max] arguments; max undefined for variadic functions. */
  arity: [number, number | undefined];
  call: GoFunction;
}

function string(value: unknown, position: number): string {
  if (typeof value === "string") return value;
  throw new FunctionError(
    `wrong type for value of argument ${position}; expected string; got ${isNoValue(value) ? "<no value>" : typeName(value)}`,
  );
}

function list(value: unknown, position: number): unknown[] {
  if (Array.isArray(value)) return value;
  throw new FunctionError(
    `wrong type for value of argument ${position}; expected a list; got ${typeName(value)}`,
  );
}

/** Go's json.Marshal: map keys sorted, and <, >, & and line separators escaped for HTML. */
function marshal(value: unknown, indent: string): string {
  const plain = (item: unknown): unknown => {
    if (isNoValue(item) || item === undefined) return null;
    if (item instanceof GoStruct) return plain(item.fields);
    if (Array.isArray(item)) return item.map(plain);
    if (isMap(item)) {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .map((key) => [key, plain(item[key])]),
      );
    }
    return item;
  };
  return (JSON.stringify(plain(value), null, indent) ?? "null")
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function decodeBase64(text: string, alphabet: RegExp, encoding: "base64" | "base64url"): string {
  if (!alphabet.test(text) || text.replace(/=+$/, "").length % 4 === 1) {
    throw new FunctionError("illegal base64 data");
  }
  return Buffer.from(text, encoding).toString("utf8");
}

function compare(name: string, left: unknown, right: unknown): number {
  const kind = (value: unknown) =>
    typeof value === "number" ? "number" : typeof value === "string" ? "string" : "";
  if (kind(left) === "" || kind(left) !== kind(right)) {
    throw new FunctionError(
      `incompatible types for comparison in ${name}: ${typeName(left)} and ${typeName(right)}`,
    );
  }
  return (left as number | string) < (right as number | string) ? -1 : left === right ? 0 : 1;
}

function equal(left: unknown, right: unknown): boolean {
  const basic = (value: unknown) =>
    typeof value === "string" || typeof value === "number" || typeof value === "boolean";
  const nil = (value: unknown) => value === null || value === undefined || isNoValue(value);
  if (nil(left) || nil(right)) return nil(left) && nil(right);
  if (!basic(left) || typeof left !== typeof right) {
    throw new FunctionError(`incompatible types for comparison: ${typeName(left)} and ${typeName(right)}`);
  }
  return left === right;
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((arg, index) => {
    if (index > 0 && typeof arg !== "string" && typeof args[index - 1] !== "string") out += " ";
    out += printValue(arg);
  });
  return out;
}

function index(args: unknown[]): unknown {
  let item = args[0];
  for (const key of args.slice(1)) {
    if (Array.isArray(item)) {
      if (typeof key !== "number" || !Number.isInteger(key)) {
        throw new FunctionError(`cannot index slice/array with type ${typeName(key)}`);
      }
      if (key < 0 || key >= item.length) throw new FunctionError(`index out of range: ${key}`);
      item = item[key];
    } else if (isMap(item)) {
      if (typeof key !== "string")
        throw new FunctionError(`value has type ${typeName(key)}; should be string`);
      // Go's index answers a missing key with the zero value, never an error.
      item = Object.hasOwn(item, key) ? item[key] : new NoValue(key);
    } else if (isNoValue(item) || item === null) {
      throw new FunctionError("index of untyped nil");
    } else {
      throw new FunctionError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

const DEFINITIONS: Record<string, Definition> = {
  // text/template built-ins (and/or are evaluated lazily by the evaluator).
  not: { arity: [1, 1], call: ([value]) => !isTrue(value) },
  len: {
    arity: [1, 1],
    call: ([value]) => {
      if (typeof value === "string") return Buffer.byteLength(value, "utf8");
      if (Array.isArray(value)) return value.length;
      if (isMap(value)) return Object.keys(value).length;
      throw new FunctionError(`len of type ${typeName(value)}`);
    },
  },
  index: { arity: [1, undefined], call: index },
  print: { arity: [0, undefined], call: (args) => sprint(args) },
  println: { arity: [0, undefined], call: (args) => `${args.map(printValue).join(" ")}\n` },
  printf: { arity: [1, undefined], call: ([format, ...args]) => sprintf(string(format, 1), args) },
  eq: {
    arity: [2, undefined],
    call: ([left, ...rights]) => rights.some((right) => equal(left, right)),
  },
  ne: { arity: [2, 2], call: ([left, right]) => !equal(left, right) },
  lt: { arity: [2, 2], call: ([left, right]) => compare("lt", left, right) < 0 },
  le: { arity: [2, 2], call: ([left, right]) => compare("le", left, right) <= 0 },
  gt: { arity: [2, 2], call: ([left, right]) => compare("gt", left, right) > 0 },
  ge: { arity: [2, 2], call: ([left, right]) => compare("ge", left, right) >= 0 },
  urlquery: {
    arity: [0, undefined],
    call: (args) =>
      encodeURIComponent(sprint(args))
        .replace(/%20/g, "+")
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  },

  // consul-template.
  secret: {
    arity: [1, undefined],
    call: ([path, ...data], host) =>
      host.secret(
        string(path, 1),
        data.map((item, at) => string(item, at + 2)),
      ),
  },
  env: { arity: [1, 1], call: ([name], host) => host.env(string(name, 1)) },
  file: { arity: [1, 1], call: ([path], host) => host.file(string(path, 1)) },
  toJSON: { arity: [1, 1], call: ([value]) => marshal(value, "") },
  toJSONPretty: { arity: [1, 1], call: ([value]) => marshal(value, "  ") },
  parseJSON: {
    arity: [1, 1],
    call: ([text]) => {
      try {
        return JSON.parse(string(text, 1));
      } catch {
        throw new FunctionError("the text is not valid JSON");
      }
    },
  },
  base64Encode: { arity: [1, 1], call: ([text]) => Buffer.from(string(text, 1), "utf8").toString("base64") },
  base64Decode: {
    arity: [1, 1],
    call: ([text]) => decodeBase64(string(text, 1), /^[A-Za-z0-9+/]*={0,2}$/, "base64"),
  },
  base64URLEncode: {
    arity: [1, 1],
    call: ([text]) =>
      Buffer.from(string(text, 1), "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_"),
  },
  base64URLDecode: {
    arity: [1, 1],
    call: ([text]) => decodeBase64(string(text, 1), /^[A-Za-z0-9_-]*={0,2}$/, "base64url"),
  },
  trimSpace: { arity: [1, 1], call: ([text]) => string(text, 1).trim() },
  trimPrefix: {
    arity: [2, 2],
    call: ([prefix, text]) => {
      const [cut, whole] = [string(prefix, 1), string(text, 2)];
      return whole.startsWith(cut) ? whole.slice(cut.length) : whole;
    },
  },
  trimSuffix: {
    arity: [2, 2],
    call: ([suffix, text]) => {
      const [cut, whole] = [string(suffix, 1), string(text, 2)];
      return cut !== "" && whole.endsWith(cut) ? whole.slice(0, -cut.length) : whole;
    },
  },
  // consul-template's split trims the text first, and splits "" into no items.
  split: {
    arity: [2, 2],
    call: ([separator, text]) => {
      const trimmed = string(text, 2).trim();
      return trimmed === "" ? [] : trimmed.split(string(separator, 1));
    },
  },
  join: {
    arity: [2, 2],
    call: ([separator, items]) =>
      list(items, 2)
        .map((item, at) => string(item, at + 1))
        .join(string(separator, 1)),
  },
  contains: {
    arity: [2, 2],
    call: ([needle, haystack]) => {
      if (typeof haystack === "string") return haystack.includes(string(needle, 1));
      if (Array.isArray(haystack)) return haystack.some((item) => item === needle);
      if (isMap(haystack)) return typeof needle === "string" && Object.hasOwn(haystack, needle);
      throw new FunctionError(`cannot look for a value in type ${typeName(haystack)}`);
    },
  },
  toLower: { arity: [1, 1], call: ([text]) => string(text, 1).toLowerCase() },
  toUpper: { arity: [1, 1], call: ([text]) => string(text, 1).toUpperCase() },
  replaceAll: {
    arity: [3, 3],
    call: ([from, to, text]) => string(text, 3).split(string(from, 1)).join(string(to, 2)),
  },
  indent: {
    arity: [2, 2],
    call: ([spaces, text]) => {
      if (typeof spaces !== "number" || !Number.isInteger(spaces) || spaces < 0) {
        throw new FunctionError("indent needs a number of spaces, 0 or more");
      }
      return string(text, 2).replace(/^/gm, " ".repeat(spaces));
    },
  },
  parseInt: {
    arity: [1, 1],
    call: ([text]) => {
      const value = string(text, 1).trim();
      if (!/^[+-]?\d+$/.test(value))
        throw new FunctionError(`parsing ${JSON.stringify(value)}: invalid syntax`);
      return Number(value);
    },
  },
  parseBool: {
    arity: [1, 1],
    call: ([text]) => {
      const value = string(text, 1);
      if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
      if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
      throw new FunctionError(`parsing ${JSON.stringify(value)}: invalid syntax`);
    },
  },
  sha256Hex: { arity: [1, 1], call: ([text]) => createHash("sha256").update(string(text, 1)).digest("hex") },
};

/** Functions evaluated by the evaluator itself, because they stop early. */
export const LAZY_FUNCTIONS = new Set(["and", "or"]);

export const FUNCTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(DEFINITIONS), ...LAZY_FUNCTIONS]);

/**
 * consul-template functions this engine refuses by name: Consul, Nomad and PKI have no
 * counterpart in Coffer, and the rest run programs or write files of their own.
 */
export const UNSUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  "key",
  "keyExists",
  "keyOrDefault",
  "ls",
  "safeLs",
  "tree",
  "safeTree",
  "service",
  "services",
  "node",
  "nodes",
  "datacenters",
  "connect",
  "caLeaf",
  "caRoots",
  "pkiCert",
  "secrets",
  "nomadService",
  "nomadServices",
  "nomadVar",
  "nomadVarList",
  "plugin",
  "executeTemplate",
  "writeToFile",
  "timestamp",
]);

export function callFunction(name: string, args: unknown[], host: TemplateHost): unknown {
  const definition = DEFINITIONS[name] as Definition;
  const [min, max] = definition.arity;
  if (args.length < min || (max !== undefined && args.length > max)) {
    const want = max === undefined ? `at least ${min}` : min === max ? String(min) : `${min} to ${max}`;
    throw new FunctionError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
  return definition.call(args, host);
}
