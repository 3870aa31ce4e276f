/**
 * The lexer of Go's text/template syntax, as consul-template (and so Vault Agent) reads
 * it: text between `{{ ... }}` actions, trim markers (`{{- ` eats the whitespace before,
 * ` -}}` the whitespace after), `{{/* comments *\/}}`, and inside an action the words of
 * a pipeline. Every token carries its line and column, so an error can point at it.
 */
import { TemplateError } from "./template-error.ts";

export type TokenKind =
  | "text"
  | "open"
  | "close"
  | "identifier"
  | "keyword"
  | "field"
  | "variable"
  | "dot"
  | "string"
  | "number"
  | "bool"
  | "nil"
  | "pipe"
  | "lparen"
  | "rparen"
  | "declare"
  | "assign"
  | "comma"
  | "eof";

export interface Position {
  line: number;
  column: number;
}

export interface Token extends Position {
  kind: TokenKind;
  /** The text of the token; for strings, their value with escapes resolved. */
  value: string;
  /** Whether whitespace comes right before it: `.A.B` is one field chain, `.A .B` two arguments. */
  spaced: boolean;
}

export interface Delimiters {
  left: string;
  right: string;
}

export const DEFAULT_DELIMITERS: Delimiters = { left: "{{", right: "}}" };

const KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "break",
  "continue",
  "define",
  "template",
  "block",
]);
const SPACE = /[ \t\r\n]/;
const TRIM_MARKER = "-";

/** Go's unquoting of "..." strings: the escapes a Go string literal has. */
const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

export function tokenize(text: string, name: string, delimiters: Delimiters = DEFAULT_DELIMITERS): Token[] {
  const { left, right } = delimiters;
  const tokens: Token[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const positionOf = (offset: number): Position => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((lineStarts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - (lineStarts[low] as number) + 1 };
  };
  const fail = (offset: number, message: string): never => {
    throw new TemplateError(name, positionOf(offset), message);
  };
  const push = (kind: TokenKind, value: string, offset: number) => {
    tokens.push({ kind, value, spaced: SPACE.test(text[offset - 1] ?? ""), ...positionOf(offset) });
  };

  let offset = 0;
  let trimNextText = false;
  while (offset < text.length) {
    const open = text.indexOf(left, offset);
    let chunk = text.slice(offset, open === -1 ? text.length : open);
    if (trimNextText) chunk = chunk.replace(/^[ \t\r\n]+/, "");
    const trimBefore =
      open !== -1 &&
      text.startsWith(TRIM_MARKER, open + left.length) &&
      SPACE.test(text[open + left.length + 1] ?? "");
    if (trimBefore) chunk = chunk.replace(/[ \t\r\n]+$/, "");
    if (chunk !== "") push("text", chunk, offset);
    if (open === -1) break;

    let cursor = open + left.length + (trimBefore ? 2 : 0);
    push("open", left, open);
    // A comment fills the whole action: {{/* ... */}} or {{- /* ... */ -}}.
    if (text.startsWith("/*", cursor)) {
      const end = text.indexOf("*/", cursor + 2);
      if (end === -1) fail(cursor, "unclosed comment");
      cursor = end + 2;
      const trimAfter = text.startsWith(` ${TRIM_MARKER}${right}`, cursor);
      if (trimAfter) cursor += 2;
      if (!text.startsWith(right, cursor)) fail(cursor, "comment ends before closing delimiter");
      tokens.pop();
      offset = cursor + right.length;
      trimNextText = trimAfter;
      continue;
    }
    cursor = lexAction(text, cursor, right, push, fail);
    const trimAfter = text[cursor] === TRIM_MARKER;
    push("close", right, cursor);
    offset = cursor + (trimAfter ? 1 : 0) + right.length;
    trimNextText = trimAfter;
  }
  push("eof", "", text.length);
  return tokens;
}

/** Reads the words of one action; returns the offset of its closing delimiter (or its trim marker). */
function lexAction(
  text: string,
  start: number,
  right: string,
  push: (kind: TokenKind, value: string, offset: number) => void,
  fail: (offset: number, message: string) => never,
): number {
  let i = start;
  let parens = 0;
  for (;;) {
    if (i >= text.length) fail(start, "unclosed action");
    if (text.startsWith(right, i)) return i;
    const char = text[i] as string;
    if (SPACE.test(char)) {
      // " -}}": a trim marker before the closing delimiter.
      if (text.startsWith(`${TRIM_MARKER}${right}`, i + 1)) return i + 1;
      i++;
    } else if (char === "|") {
      push("pipe", char, i++);
    } else if (char === "(") {
      parens++;
      push("lparen", char, i++);
    } else if (char === ")") {
      if (parens === 0) fail(i, "unexpected right paren");
      parens--;
      push("rparen", char, i++);
    } else if (char === ",") {
      push("comma", char, i++);
    } else if (text.startsWith(":=", i)) {
      push("declare", ":=", i);
      i += 2;
    } else if (char === "=") {
      push("assign", char, i++);
    } else if (char === '"') {
      i = lexQuoted(text, i, push, fail);
    } else if (char === "`") {
      const end = text.indexOf("`", i + 1);
      if (end === -1) fail(i, "unterminated raw quoted string");
      push("string", text.slice(i + 1, end), i);
      i = end + 1;
    } else if (char === "'") {
      i = lexCharacter(text, i, push, fail);
    } else if (char === "$") {
      const match = /^\$[\p{L}_0-9]*/u.exec(text.slice(i)) as RegExpExecArray;
      push("variable", match[0], i);
      i += match[0].length;
    } else if (char === ".") {
      const match = /^\.[\p{L}_][\p{L}_0-9]*/u.exec(text.slice(i));
      if (match) {
        push("field", match[0].slice(1), i);
        i += match[0].length;
      } else if (/[0-9]/.test(text[i + 1] ?? "")) {
        i = lexNumber(text, i, push, fail);
      } else {
        push("dot", ".", i++);
      }
    } else if (/[0-9+-]/.test(char)) {
      i = lexNumber(text, i, push, fail);
    } else if (/[\p{L}_]/u.test(char)) {
      const match = /^[\p{L}_][\p{L}_0-9]*/u.exec(text.slice(i)) as RegExpExecArray;
      const word = match[0];
      const kind: TokenKind = KEYWORDS.has(word)
        ? "keyword"
        : word === "true" || word === "false"
          ? "bool"
          : word === "nil"
            ? "nil"
            : "identifier";
      push(kind, word, i);
      i += word.length;
    } else {
      fail(i, `unexpected ${JSON.stringify(char)} in command`);
    }
  }
}

function lexQuoted(
  text: string,
  start: number,
  push: (kind: TokenKind, value: string, offset: number) => void,
  fail: (offset: number, message: string) => never,
): number {
  let value = "";
  let i = start + 1;
  for (;;) {
    const char = text[i];
    if (char === undefined || char === "\n") fail(start, "unterminated quoted string");
    if (char === '"') break;
    if (char === "\\") {
      const [decoded, length] = decodeEscape(text, i, fail);
      value += decoded;
      i += length;
    } else {
      value += char;
      i++;
    }
  }
  push("string", value, start);
  return i + 1;
}

/** A character constant such as 'a': Go templates treat it as its code point, a number. */
function lexCharacter(
  text: string,
  start: number,
  push: (kind: TokenKind, value: string, offset: number) => void,
  fail: (offset: number, message: string) => never,
): number {
  let i = start + 1;
  let value: string;
  if (text[i] === "\\") {
    const [decoded, length] = decodeEscape(text, i, fail);
    value = decoded;
    i += length;
  } else {
    const codePoint = text.codePointAt(i);
    if (codePoint === undefined) fail(start, "unterminated character constant");
    value = String.fromCodePoint(codePoint as number);
    i += value.length;
  }
  if (text[i] !== "'") fail(start, "unterminated character constant");
  push("number", String(value.codePointAt(0)), start);
  return i + 1;
}

/** One escape sequence at `at` (which holds the backslash): its value and its length. */
function decodeEscape(
  text: string,
  at: number,
  fail: (offset: number, message: string) => never,
): [string, number] {
  const kind = text[at + 1] ?? "";
  const simple = SIMPLE_ESCAPES[kind];
  if (simple !== undefined) return [simple, 2];
  const hexLength = { x: 2, u: 4, U: 8 }[kind];
  if (hexLength !== undefined) {
    const digits = text.slice(at + 2, at + 2 + hexLength);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(digits)) fail(at, "invalid syntax in escape");
    const code = Number.parseInt(digits, 16);
    if (kind === "x") return [String.fromCharCode(code), 2 + hexLength];
    if (code > 0x10ffff) fail(at, "invalid syntax in escape");
    return [String.fromCodePoint(code), 2 + hexLength];
  }
  if (/[0-7]/.test(kind)) {
    const digits = text.slice(at + 1, at + 4);
    if (!/^[0-7]{3}$/.test(digits)) fail(at, "invalid syntax in escape");
    return [String.fromCharCode(Number.parseInt(digits, 8)), 4];
  }
  return fail(at, `unknown escape sequence \\${kind}`);
}

function lexNumber(
  text: string,
  start: number,
  push: (kind: TokenKind, value: string, offset: number) => void,
  fail: (offset: number, message: string) => never,
): number {
  const match = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
    text.slice(start),
  );
  const word = match?.[0] ?? "";
  const next = text[start + word.length] ?? "";
  if (!/\d/.test(word) || /[\p{L}_0-9.]/u.test(next))
    fail(start, `bad number syntax: ${JSON.stringify(word + next)}`);
  push("number", word, start);
  return start + word.length;
}
