/**
 * JSON read with every key of an object kept, in order, repeated keys included.
 * JSON.parse keeps only the last of repeated keys; Vault reads JSON policies with its HCL
 * parser, which keeps them all, so `{"path": {"a": ..., "a": ...}}` has two rules for
 * "a", exactly as two `path "a"` blocks in HCL have.
 */

/** A JSON value; an object is the list of its entries. */
export type JsonTree = null | boolean | number | string | JsonTree[] | JsonEntries;

export interface JsonEntries {
  entries: [string, JsonTree][];
}

export function isJsonEntries(value: JsonTree): value is JsonEntries {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const VALUE_END = new Set([",", "]", "}", " ", "\t", "\n", "\r"]);

/**
 * The value of `text`. Throws JSON.parse's SyntaxError for anything that is not JSON, and
 * a RangeError beyond `maxDepth` nested objects and arrays (the walk recurses per level).
 */
export function parseJsonEntries(text: string, maxDepth: number): JsonTree {
  // JSON.parse decides what is JSON; the walk below only has to keep the entries of valid JSON.
  JSON.parse(text);
  let at = 0;
  const skipWhitespace = () => {
    while (WHITESPACE.has(text[at] as string)) at++;
  };

  function string(): string {
    const start = at;
    at++;
    while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at));
  }

  function value(depth: number): JsonTree {
    skipWhitespace();
    const char = text[at];
    if (char === "{" || char === "[") {
      if (depth >= maxDepth) throw new RangeError(`nested deeper than ${maxDepth} levels`);
      at++;
      skipWhitespace();
      const close = char === "{" ? "}" : "]";
      const entries: [string, JsonTree][] = [];
      const items: JsonTree[] = [];
      while (text[at] !== close) {
        if (char === "{") {
          skipWhitespace();
          const key = string();
          skipWhitespace();
          at++; // the ":" JSON.parse saw there
          entries.push([key, value(depth + 1)]);
        } else {
          items.push(value(depth + 1));
        }
        skipWhitespace();
        if (text[at] === ",") at++;
        skipWhitespace();
      }
      at++;
      return char === "{" ? { entries } : items;
    }
    if (char === '"') return string();
    const start = at;
    while (at < text.length && !VALUE_END.has(text[at] as string)) at++;
    return JSON.parse(text.slice(start, at));
  }

  return value(0);
}
