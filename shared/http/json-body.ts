/**
 * A request body as a JSON object, with a bound on nesting checked before the parser
 * builds anything: every step after parsing (policy checks, handlers, the audit record)
 * then walks a value of bounded depth, whichever fields a handler reads.
 */
import type { JsonObject } from "../engines/engine.ts";
import { invalidRequest } from "../errors.ts";

/** Deepest nesting of objects and arrays accepted in a body: Vault's default `max_json_depth`. */
export const MAX_JSON_DEPTH = 500;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether objects and arrays in `text` nest deeper than `limit`, in one pass over the
 * characters that stops at the first level too deep. Brackets inside strings do not
 * count; malformed text is left for the parser to refuse.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // Each level takes at least one character.
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The body as an object ({} when empty); a clear 400 for anything else, never quoting it. */
export function parseJsonObject(text: string, maxDepth = MAX_JSON_DEPTH): JsonObject {
  if (text.trim() === "") return {};
  if (nestsDeeperThan(text, maxDepth)) {
    throw invalidRequest(`the request body nests objects and arrays deeper than ${maxDepth} levels`);
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
