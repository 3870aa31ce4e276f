/**
 * The agent's template language: text with `{{ ... }}` actions that insert secret values.
 * It has no loops, no conditions, no function calls into the host, and no way to run
 * anything: a template can only read the secrets its entry names and format them.
 *
 *   {{ .password }}                     a field of the entry's own secret
 *   {{ .config.host }}                  a field inside a JSON object value
 *   {{ field "key with spaces" }}       a field whose name is not a plain word
 *   {{ secret "secret/data/app/db" "password" }}   a field of another secret
 *   {{ "literal text" }}                a string, e.g. {{ "{{" }} for literal braces
 *   {{ .password | base64 }}            filters: base64, json, urlquery, trim, upper, lower
 *   {{/* a comment *\/}}
 *
 * A field that is missing is an error, never an empty string: a half-rendered
 * configuration must not reach the application.
 */

export class RenderError extends Error {
  override readonly name = "RenderError";
}

type Source =
  | { kind: "own"; keys: string[] }
  | { kind: "secret"; path: string; keys: string[] }
  | { kind: "literal"; text: string };

type Part =
  | { kind: "text"; text: string }
  | { kind: "action"; source: Source; filters: Filter[]; line: number };

export interface Template {
  parts: Part[];
  /** Secret paths named with `secret "..."`, which the agent must fetch. */
  secretPaths: string[];
  /** Whether the template reads its entry's own secret (`.field` or `field "..."`). */
  usesOwnSecret: boolean;
}

const FILTERS = {
  base64: (text: string) => Buffer.from(text, "utf8").toString("base64"),
  json: (text: string) => JSON.stringify(text),
  urlquery: (text: string) => encodeURIComponent(text),
  trim: (text: string) => text.trim(),
  upper: (text: string) => text.toUpperCase(),
  lower: (text: string) => text.toLowerCase(),
} as const;
type Filter = keyof typeof FILTERS;

type Token = { kind: "string"; value: string } | { kind: "word"; value: string } | { kind: "pipe" };

function tokenize(action: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < action.length) {
    const char = action[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (char === "|") {
      tokens.push({ kind: "pipe" });
      i++;
    } else if (char === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= action.length) throw new RenderError(`line ${line}: unterminated string`);
        const next = action[i] as string;
        if (next === '"') break;
        if (next === "\\") {
          const escaped = action[i + 1];
          const replacement = { '"': '"', "\\": "\\", n: "\n", t: "\t" }[escaped ?? ""];
          if (replacement === undefined)
            throw new RenderError(`line ${line}: unknown escape \\${escaped ?? ""}`);
          value += replacement;
          i += 2;
        } else {
          value += next;
          i++;
        }
      }
      tokens.push({ kind: "string", value });
      i++;
    } else {
      const match = /^[A-Za-z0-9_.-]+/.exec(action.slice(i));
      if (!match) throw new RenderError(`line ${line}: unexpected "${char}"`);
      tokens.push({ kind: "word", value: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

function fieldKeys(word: string, line: number): string[] {
  const keys = word.slice(1).split(".");
  if (keys.some((key) => key === "")) throw new RenderError(`line ${line}: invalid field "${word}"`);
  return keys;
}

function parseAction(action: string, line: number): Part | undefined {
  const trimmed = action.trim();
  if (trimmed.startsWith("/*")) {
    if (!trimmed.endsWith("*/")) throw new RenderError(`line ${line}: unterminated comment`);
    return undefined;
  }
  const tokens = tokenize(trimmed, line);
  const [first, ...rest] = tokens;
  if (!first) throw new RenderError(`line ${line}: empty action {{ }}`);
  let source: Source;
  let consumed: number;
  const stringAt = (index: number, what: string) => {
    const token = rest[index];
    if (token?.kind !== "string")
      throw new RenderError(`line ${line}: expected ${what} as a "quoted string"`);
    return token.value;
  };
  if (first.kind === "string") {
    source = { kind: "literal", text: first.value };
    consumed = 0;
  } else if (first.kind === "word" && first.value.startsWith(".")) {
    source = { kind: "own", keys: fieldKeys(first.value, line) };
    consumed = 0;
  } else if (first.kind === "word" && first.value === "field") {
    source = { kind: "own", keys: [stringAt(0, "the field name")] };
    consumed = 1;
  } else if (first.kind === "word" && first.value === "secret") {
    const path = stringAt(0, "the secret's path").replace(/^\/+/, "");
    if (path === "") throw new RenderError(`line ${line}: the secret's path must not be empty`);
    source = { kind: "secret", path, keys: [stringAt(1, "the field name")] };
    consumed = 2;
  } else {
    throw new RenderError(
      `line ${line}: unknown action "${first.kind === "word" ? first.value : "|"}": ` +
        'expected .field, field "name", secret "path" "field" or a "string"',
    );
  }
  const filters: Filter[] = [];
  const remaining = rest.slice(consumed);
  for (let i = 0; i < remaining.length; i += 2) {
    const pipe = remaining[i];
    const name = remaining[i + 1];
    if (pipe?.kind !== "pipe") throw new RenderError(`line ${line}: expected "|" before more of the action`);
    if (name?.kind !== "word" || !Object.hasOwn(FILTERS, name.value)) {
      const known = Object.keys(FILTERS).join(", ");
      throw new RenderError(
        `line ${line}: unknown filter${name?.kind === "word" ? ` "${name.value}"` : ""}: use ${known}`,
      );
    }
    filters.push(name.value as Filter);
  }
  return { kind: "action", source, filters, line };
}

export function parseTemplate(text: string): Template {
  const parts: Part[] = [];
  let position = 0;
  let line = 1;
  for (;;) {
    const open = text.indexOf("{{", position);
    if (open === -1) {
      if (position < text.length) parts.push({ kind: "text", text: text.slice(position) });
      break;
    }
    if (open > position) parts.push({ kind: "text", text: text.slice(position, open) });
    line += countLines(text.slice(position, open));
    const close = closingBraces(text, open + 2);
    if (close === -1) throw new RenderError(`line ${line}: "{{" without a closing "}}"`);
    const action = parseAction(text.slice(open + 2, close), line);
    if (action) parts.push(action);
    line += countLines(text.slice(open, close));
    position = close + 2;
  }
  const sources = parts.flatMap((part) => (part.kind === "action" ? [part.source] : []));
  return {
    parts,
    secretPaths: [...new Set(sources.flatMap((source) => (source.kind === "secret" ? [source.path] : [])))],
    usesOwnSecret: sources.some((source) => source.kind === "own"),
  };
}

/** Where an action ends: the first "}}" outside a quoted string, or -1. */
function closingBraces(text: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length - 1; i++) {
    const char = text[i];
    if (quoted && char === "\\") i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === "}" && text[i + 1] === "}") return i;
  }
  return -1;
}

function countLines(text: string): number {
  return text.split("\n").length - 1;
}

/** A value as text: strings as they are, everything else as JSON. */
export function valueText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Looks up a secret's fields by path; undefined for the entry's own secret. */
export type SecretLookup = (path: string | undefined) => Record<string, unknown>;

function resolve(source: Source, lookup: SecretLookup, line: number): unknown {
  if (source.kind === "literal") return source.text;
  const path = source.kind === "secret" ? source.path : undefined;
  let value: unknown = lookup(path);
  const where = path === undefined ? "the entry's secret" : path;
  for (const [index, key] of source.keys.entries()) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) {
      throw new RenderError(
        `line ${line}: ${where} has no field "${source.keys.slice(0, index + 1).join(".")}"`,
      );
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function renderTemplate(template: Template, lookup: SecretLookup): string {
  return template.parts
    .map((part) => {
      if (part.kind === "text") return part.text;
      const value = resolve(part.source, lookup, part.line);
      return part.filters.reduce((text, filter) => FILTERS[filter](text), valueText(value));
    })
    .join("");
}
