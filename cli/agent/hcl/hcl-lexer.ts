/**
 * The tokens of the HCL that Vault Agent configurations are written in: identifiers,
 * quoted strings with escapes, heredocs (`<<EOF` and the indented `<<-EOF`), numbers,
 * punctuation, newlines (they end an attribute), and `#`, `//` and `/* *\/` comments.
 * A `${...}` in a string stays as it is, as in Vault's HCL 1.
 */
import { HclSyntaxError, type Place } from "./hcl-syntax.ts";

export type HclTokenKind = "identifier" | "string" | "number" | "punctuation" | "newline" | "eof";

export interface HclToken extends Place {
  kind: HclTokenKind;
  value: string;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

export function tokenizeHcl(text: string): HclToken[] {
  const tokens: HclToken[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const place = (offset: number): Place => ({ line, column: offset - lineStart + 1 });
  const fail = (offset: number, reason: string): never => {
    throw new HclSyntaxError(place(offset), reason);
  };
  const newline = (offset: number) => {
    line++;
    lineStart = offset + 1;
  };

  while (i < text.length) {
    const char = text[i] as string;
    if (char === "\n") {
      tokens.push({ kind: "newline", value: "\n", ...place(i) });
      newline(i);
      i++;
    } else if (char === " " || char === "\t" || char === "\r") {
      i++;
    } else if (char === "#" || text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) fail(i, "unterminated /* comment");
      for (let j = i; j < end; j++) if (text[j] === "\n") newline(j);
      i = end + 2;
    } else if (char === '"') {
      const start = place(i);
      let value = "";
      i++;
      for (;;) {
        const next = text[i];
        if (next === undefined || next === "\n") throw new HclSyntaxError(start, "unterminated string");
        if (next === '"') break;
        if (next === "\\") {
          const kind = text[i + 1] ?? "";
          if (ESCAPES[kind] !== undefined) {
            value += ESCAPES[kind];
            i += 2;
          } else if (kind === "u" || kind === "U") {
            const length = kind === "u" ? 4 : 8;
            const digits = text.slice(i + 2, i + 2 + length);
            if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) fail(i, `invalid escape \\${kind}`);
            value += String.fromCodePoint(Number.parseInt(digits, 16));
            i += 2 + length;
          } else {
            fail(i, `invalid escape \\${kind} in string`);
          }
        } else {
          value += next;
          i++;
        }
      }
      i++;
      tokens.push({ kind: "string", value, ...start });
    } else if (text.startsWith("<<", i)) {
      const start = place(i);
      const header = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(text.slice(i));
      if (!header) fail(i, "expected a heredoc marker such as <<EOF and a newline");
      const [whole, indented, marker] = header as RegExpExecArray;
      newline(i + whole.length - 1);
      i += whole.length;
      const lines: string[] = [];
      for (;;) {
        if (i >= text.length)
          throw new HclSyntaxError(start, `heredoc <<${indented}${marker} has no closing ${marker}`);
        const end = text.indexOf("\n", i);
        const content = text.slice(i, end === -1 ? text.length : end).replace(/\r$/, "");
        i = end === -1 ? text.length : end;
        if (content.trim() === marker) break;
        lines.push(content);
        if (end !== -1) {
          newline(end);
          i = end + 1;
        }
      }
      let body = lines;
      if (indented) {
        const indent = Math.min(
          ...lines
            .filter((item) => item.trim() !== "")
            .map((item) => (/^[ \t]*/.exec(item) as RegExpExecArray)[0].length),
        );
        body = lines.map((item) => item.slice(Number.isFinite(indent) ? indent : 0));
      }
      tokens.push({ kind: "string", value: body.map((item) => `${item}\n`).join(""), ...start });
    } else if (/[0-9-]/.test(char)) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!match) fail(i, `unexpected ${JSON.stringify(char)}`);
      tokens.push({ kind: "number", value: (match as RegExpExecArray)[0], ...place(i) });
      i += (match as RegExpExecArray)[0].length;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "identifier", value: match[0], ...place(i) });
      i += match[0].length;
    } else if ("{}[]=,:".includes(char)) {
      tokens.push({ kind: "punctuation", value: char, ...place(i) });
      i++;
    } else {
      fail(i, `unexpected ${JSON.stringify(char)}`);
    }
  }
  tokens.push({ kind: "eof", value: "", ...place(i) });
  return tokens;
}
