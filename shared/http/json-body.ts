/**
 * A request body as a JSON object, with its shape bounded before the parser builds
 * anything: nesting always (every step after parsing, policy checks, handlers and the
 * audit record, then walks a value of bounded depth, whichever fields a handler reads),
 * and the number of values where the caller cannot be charged for them (every string
 * value is hashed into the audit log).
 */
import type { JsonObject } from "../engines/engine.ts";
import { invalidRequest, payloadTooLarge } from "../errors.ts";

/** Deepest nesting of objects and arrays accepted in a body: Vault's default `max_json_depth`. */
export const MAX_JSON_DEPTH = 500;

export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most values (object members and array elements, at any depth), when bounded. */
  maxValues?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

const isWhitespace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/**
 * Which limit `text` breaks, if any, found in one pass over its characters that stops at
 * the first break. Brackets, colons and commas inside strings do not count; malformed
 * text is left for the parser to refuse.
 */
export function jsonLimitBroken(text: string, limits: JsonLimits): "depth" | "values" | undefined {
  const maxValues = limits.maxValues ?? Number.POSITIVE_INFINITY;
  // Each level and each value takes at least one character.
  if (text.length <= limits.maxDepth && text.length <= maxValues) return undefined;
  const inArray: boolean[] = [];
  let values = 0;
  let inString = false;
  // Just after "[": the array's first element, if it has one, is still to come.
  let firstElementPending = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
      continue;
    }
    if (firstElementPending && !isWhitespace(code)) {
      firstElementPending = false;
      if (code !== CLOSE_BRACKET) values++;
    }
    if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      inArray.push(code === OPEN_BRACKET);
      if (inArray.length > limits.maxDepth) return "depth";
      firstElementPending = code === OPEN_BRACKET;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      inArray.pop();
    } else if (code === COLON || (code === COMMA && inArray.at(-1) === true)) {
      values++;
    }
    if (values > maxValues) return "values";
  }
  return undefined;
}

/** The body as an object ({} when empty); a clear error for anything else, never quoting it. */
export function parseJsonObject(text: string, limits: JsonLimits = { maxDepth: MAX_JSON_DEPTH }): JsonObject {
  if (text.trim() === "") return {};
  const broken = jsonLimitBroken(text, limits);
  if (broken === "depth") {
    throw invalidRequest(`the request body nests objects and arrays deeper than ${limits.maxDepth} levels`);
  }
  if (broken === "values") {
    throw payloadTooLarge(`the request body holds more than ${limits.maxValues} values`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, which may be a secret: never echo it.
    throw invalidRequest("failed to parse JSON input: the request body is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidRequest("the request body must be a JSON object");
  }
  return value as JsonObject;
}
