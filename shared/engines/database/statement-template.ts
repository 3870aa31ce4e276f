/**
 * Vault's statement templates ({{name}}, {{password}}, {{expiration}}, ...) rendered for
 * PostgreSQL so that no value can change a statement's structure, whatever the template
 * author wrote around the placeholder. The template is read the way PostgreSQL's lexer
 * reads SQL, and each placeholder is escaped for where it stands:
 *
 *   "{{name}}"          inside a quoted identifier: `"` doubled
 *   '{{password}}'      inside a string constant: `'` doubled (E'' and U&'': `\` doubled too)
 *   {{name}}            bare: becomes a quoted identifier ("...");
 *   {{password}}        bare: becomes a string constant ('...')
 *   $$ ... {{name}} $$  inside a dollar-quoted body or a comment, whose inner syntax is not
 *                       PostgreSQL's to know: only values made of characters that are inert
 *                       in every SQL dialect are accepted, anything else is refused
 *
 * Coffer generates every value from safe alphabets, so escaping never actually changes
 * one; it is there so that a future value, or a template nobody reviewed, cannot become
 * an injection.
 */
import { invalidRequest } from "../../errors.ts";

export type Region =
  | "code"
  | "identifier"
  | "unicode-identifier"
  | "literal"
  | "escape-literal"
  | "dollar"
  | "line-comment"
  | "block-comment";

export type Token =
  | { kind: "text"; region: Region; text: string }
  | { kind: "placeholder"; region: Region; name: string };

/** Placeholders whose bare form is a quoted identifier; the others become string constants. */
const IDENTIFIER_PLACEHOLDERS = new Set(["name", "username"]);
/** Characters inert inside any dollar-quoted language body or comment: no quote, `$`, `*`, `\` or newline. */
const INERT = /^[A-Za-z0-9 _.:+@=/-]*$/;
const PLACEHOLDER = /^\{\{([A-Za-z_]+)\}\}/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const identifierChar = (char: string | undefined) =>
  char !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(char);

const UNTERMINATED: Partial<Record<Region, string>> = {
  identifier: "an unterminated quoted identifier",
  "unicode-identifier": "an unterminated quoted identifier",
  literal: "an unterminated string constant",
  "escape-literal": "an unterminated string constant",
  dollar: "an unterminated dollar-quoted string",
  "block-comment": "an unterminated comment",
};

/**
 * Splits a statement into text and placeholders, each with the region it stands in.
 * Throws on a statement that ends inside a quote or a comment.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let region = "code" as Region;
  let dollarTag = "";
  let depth = 0;
  let text = "";
  const flush = () => {
    if (text !== "") tokens.push({ kind: "text", region, text });
    text = "";
  };
  const enter = (next: Region, opening: string) => {
    flush();
    region = next;
    text = opening;
  };
  const leave = (closing: string) => {
    text += closing;
    flush();
    region = "code";
  };

  for (let i = 0; i < sql.length; ) {
    const placeholder = sql[i] === "{" ? PLACEHOLDER.exec(sql.slice(i, i + 64)) : null;
    if (placeholder) {
      flush();
      tokens.push({ kind: "placeholder", region, name: placeholder[1] as string });
      i += placeholder[0].length;
      continue;
    }
    const char = sql[i] as string;
    const next = sql[i + 1];
    switch (region) {
      case "code": {
        // E'...' and U&'...' take backslash escapes; U&"..." is an identifier with escapes.
        const escapePrefix = /[Ee]/.test(sql[i - 1] ?? "") && !identifierChar(sql[i - 2]);
        const unicodePrefix =
          sql[i - 1] === "&" && /[Uu]/.test(sql[i - 2] ?? "") && !identifierChar(sql[i - 3]);
        if (char === "'") {
          enter(escapePrefix || unicodePrefix ? "escape-literal" : "literal", char);
        } else if (char === '"') {
          enter(unicodePrefix ? "unicode-identifier" : "identifier", char);
        } else if (char === "$" && !identifierChar(sql[i - 1]) && DOLLAR_TAG.test(sql.slice(i))) {
          dollarTag = (DOLLAR_TAG.exec(sql.slice(i)) as RegExpExecArray)[0];
          enter("dollar", dollarTag);
          i += dollarTag.length;
          continue;
        } else if (char === "-" && next === "-") {
          enter("line-comment", "--");
          i += 2;
          continue;
        } else if (char === "/" && next === "*") {
          enter("block-comment", "/*");
          depth = 1;
          i += 2;
          continue;
        } else {
          text += char;
        }
        i += 1;
        continue;
      }
      case "literal":
      case "escape-literal":
      case "identifier":
      case "unicode-identifier": {
        const quote = region === "literal" || region === "escape-literal" ? "'" : '"';
        if (region === "escape-literal" && char === "\\" && next !== undefined) {
          text += char + next;
          i += 2;
        } else if (char === quote && next === quote) {
          text += char + next;
          i += 2;
        } else if (char === quote) {
          leave(char);
          i += 1;
        } else {
          text += char;
          i += 1;
        }
        continue;
      }
      case "dollar":
        if (sql.startsWith(dollarTag, i)) {
          leave(dollarTag);
          i += dollarTag.length;
        } else {
          text += char;
          i += 1;
        }
        continue;
      case "line-comment":
        if (char === "\n") leave(char);
        else text += char;
        i += 1;
        continue;
      case "block-comment":
        if (char === "/" && next === "*") {
          depth++;
          text += "/*";
          i += 2;
        } else if (char === "*" && next === "/") {
          depth--;
          if (depth === 0) leave("*/");
          else text += "*/";
          i += 2;
        } else {
          text += char;
          i += 1;
        }
        continue;
    }
  }
  const problem = UNTERMINATED[region];
  if (problem) throw invalidRequest(`the statement ends inside ${problem}`);
  flush();
  return tokens;
}

/**
 * Statements that would end the transaction Coffer runs templates in, after which the rest
 * would apply one by one and a failure could no longer be rolled back. (BEGIN and START
 * TRANSACTION only warn inside a transaction; ROLLBACK TO a savepoint stays inside it.)
 */
const ENDS_TRANSACTION = /^(?:commit|end|abort|rollback(?!\s+to\b)|prepare\s+transaction)\b/i;

function endsTransaction(tokens: readonly Token[]): string | undefined {
  // The statement as its keywords: quoted parts and placeholders become opaque words.
  const skeleton = tokens
    .map((token) => (token.kind === "text" && token.region === "code" ? token.text : " x "))
    .join("");
  return skeleton
    .split(";")
    .map((statement) => statement.trim())
    .find((statement) => ENDS_TRANSACTION.test(statement));
}

/**
 * Checks a statement list as a role or connection write receives it: every statement must
 * lex to its end, use only the placeholders the statement kind offers, and leave the
 * transaction it runs in alone.
 */
export function checkStatements(field: string, statements: readonly string[], allowed: readonly string[]) {
  statements.forEach((statement, index) => {
    const where = `"${field}" statement ${index + 1}`;
    let tokens: Token[];
    try {
      tokens = tokenize(statement);
    } catch (error) {
      throw invalidRequest(`${where}: ${(error as Error).message}`);
    }
    for (const token of tokens) {
      if (token.kind === "placeholder" && !allowed.includes(token.name)) {
        throw invalidRequest(
          `${where}: unknown placeholder {{${token.name}}}; use ${allowed.map((name) => `{{${name}}}`).join(", ")}`,
        );
      }
    }
    const ending = endsTransaction(tokens);
    if (ending !== undefined) {
      throw invalidRequest(
        `${where}: "${ending.split(/\s+/)[0]}" would end the transaction Coffer runs the statements in`,
      );
    }
  });
}

function escapeFor(region: Region, name: string, value: string): string {
  const refuse = (why: string) => {
    throw invalidRequest(`{{${name}}} cannot be rendered ${why}`);
  };
  if (value.includes("\0")) refuse("with a NUL character");
  switch (region) {
    case "code":
      if (IDENTIFIER_PLACEHOLDERS.has(name)) return `"${value.replaceAll('"', '""')}"`;
      // Refused rather than escaped: a backslash means something else when the server runs
      // with standard_conforming_strings off.
      if (value.includes("\\")) refuse("as a string constant: it contains a backslash");
      return `'${value.replaceAll("'", "''")}'`;
    case "identifier":
      return value.replaceAll('"', '""');
    case "literal":
      if (value.includes("\\")) refuse("inside a string constant: it contains a backslash");
      return value.replaceAll("'", "''");
    case "escape-literal":
      return value.replaceAll("\\", "\\\\").replaceAll("'", "''");
    default:
      if (!INERT.test(value) || value.includes("--")) {
        refuse(
          `inside ${region === "dollar" ? "a dollar-quoted string" : "a comment or a Unicode identifier"}`,
        );
      }
      return value;
  }
}

/** The statement with every placeholder replaced by its value, escaped for its place. */
export function renderStatement(statement: string, values: Readonly<Record<string, string>>): string {
  return tokenize(statement)
    .map((token) => {
      if (token.kind === "text") return token.text;
      const value = values[token.name];
      if (value === undefined) throw invalidRequest(`unknown placeholder {{${token.name}}}`);
      return escapeFor(token.region, token.name, value);
    })
    .join("");
}
