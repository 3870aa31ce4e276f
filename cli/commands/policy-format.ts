/**
 * `coffer policy fmt`: an HCL policy in the layout the vault CLI's formatter gives it
 * (HCL's printer): two-space indentation, `=` aligned in a run of attributes, a blank
 * line between blocks, one-line lists kept on one line and others one element per line.
 * Comments are kept where they are. The policy is checked by the server's own parser
 * first, so only a policy the server would accept is rewritten.
 */
import { parsePolicy } from "../../shared/policy/policy-document.ts";
import { LocalError } from "./exit-codes.ts";

type Kind = "comment" | "string" | "ident" | "{" | "}" | "[" | "]" | "=" | ",";

interface Token {
  kind: Kind;
  /** As written: a string with its quotes and escapes, a comment with its markers. */
  text: string;
  line: number;
  /** The last line of a block comment; `line` for everything else. */
  endLine: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const push = (kind: Kind, start: number, end: number, endLine = line) =>
    tokens.push({ kind, text: text.slice(start, end).trimEnd(), line, endLine });
  while (i < text.length) {
    const char = text[i] as string;
    const start = i;
    if (char === "\n") {
      line++;
      i++;
    } else if (/\s/.test(char)) {
      i++;
    } else if (char === "#" || text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
      push("comment", start, i);
    } else if (text.startsWith("/*", i)) {
      // The parser has checked the policy: every comment and string is terminated.
      i = text.indexOf("*/", i + 2) + 2;
      const lines = text.slice(start, i).split("\n").length - 1;
      push("comment", start, i, line + lines);
      line += lines;
    } else if (char === '"') {
      i++;
      while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      push("string", start, i);
    } else if ("{}[]=,".includes(char)) {
      i++;
      push(char as Kind, start, i);
    } else {
      while (i < text.length && /[A-Za-z0-9_-]/.test(text[i] as string)) i++;
      push("ident", start, i);
    }
  }
  return tokens;
}

/** The formatted text of an HCL policy; a LocalError names what is wrong with it. */
export function formatPolicy(text: string, source: string): string {
  if (text.trimStart().startsWith("{")) {
    throw new LocalError(`${source} is a JSON policy: policy fmt formats HCL`);
  }
  try {
    parsePolicy(text);
  } catch (error) {
    throw new LocalError(`${source}: ${(error as Error).message}`);
  }
  const tokens = tokenize(text);
  let position = 0;
  /** The last source line of what has been taken: blank lines are judged from it. */
  let reached = 0;
  const out: string[] = [];
  const take = (...kinds: Kind[]): Token => {
    const token = tokens[position++] as Token;
    reached = token.endLine;
    if (!kinds.includes(token.kind)) {
      throw new LocalError(
        `${source}: line ${token.line}: cannot format a comment inside a path line or an attribute; ` +
          "move it to a line of its own",
      );
    }
    return token;
  };
  /** A comment that follows on the same line, kept at the end of the formatted line. */
  const trailing = (): string => {
    const next = tokens[position];
    if (next?.kind !== "comment" || next.line !== reached) return "";
    position++;
    reached = next.endLine;
    return ` ${next.text}`;
  };

  /** An attribute's value: its text on one line, or its lines when the list spans several. */
  function value(): { text: string; lines?: string[] } {
    const first = take("string", "[");
    if (first.kind === "string") return { text: first.text };
    const elements: { text: string; after: string; comment: boolean }[] = [];
    let multiline = false;
    for (;;) {
      const token = take("string", "comment", "]", ",");
      if (token.kind === "]") {
        multiline ||= token.line !== first.line;
        if (!multiline) {
          return { text: `[${elements.map((element) => element.text).join(", ")}]` };
        }
        const lines = elements.map(({ text, after, comment }) => (comment ? text : `${text},${after}`));
        return { text: "[", lines };
      }
      if (token.kind === "comment") {
        multiline = true;
        elements.push({ text: token.text, after: "", comment: true });
      } else if (token.kind === "string") {
        if (tokens[position]?.kind === ",") take(",");
        const after = trailing();
        multiline ||= after !== "";
        elements.push({ text: token.text, after, comment: false });
      }
    }
  }

  let afterBlock = false;
  while (position < tokens.length) {
    const before = reached;
    const token = take("comment", "ident");
    if (before > 0 && (afterBlock || token.line - before > 1)) out.push("");
    if (token.kind === "comment") {
      out.push(token.text);
      afterBlock = false;
      continue;
    }
    const path = take("string");
    take("{");
    out.push(`${token.text} ${path.text} {${trailing()}`);
    let run: { name: string; text: string; after: string }[] = [];
    const flush = () => {
      const width = Math.max(...run.map((attribute) => attribute.name.length));
      for (const { name, text, after } of run) out.push(`  ${name.padEnd(width)} = ${text}${after}`);
      run = [];
    };
    for (;;) {
      const before = reached;
      const next = take("ident", "comment", "}");
      const blank = next.line - before > 1;
      if (next.kind !== "ident" || blank) flush();
      if (blank) out.push("");
      if (next.kind === "}") {
        out.push(`}${trailing()}`);
        break;
      }
      if (next.kind === "comment") {
        out.push(`  ${next.text}`);
        continue;
      }
      take("=");
      const { text: valueText, lines } = value();
      if (tokens[position]?.kind === ",") take(",");
      const after = trailing();
      if (lines) {
        flush();
        out.push(`  ${next.text} = [`, ...lines.map((line) => `    ${line}`), `  ]${after}`);
      } else {
        run.push({ name: next.text, text: valueText, after });
      }
    }
    afterBlock = true;
  }
  return `${out.join("\n")}\n`;
}
