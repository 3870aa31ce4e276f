/**
 * Statement templates: read as PostgreSQL's lexer reads SQL, and rendered so that a value,
 * whatever it holds, stays inside the place its placeholder stands. The property tests
 * render arbitrary values and read the result back: the same regions, in the same order,
 * each holding exactly the value.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkStatements,
  renderStatement,
  type Token,
  tokenize,
} from "../../../shared/engines/database/statement-template.ts";

const regions = (sql: string) => tokenize(sql).map((token) => token.region);
/** The regions of a statement with adjacent text of one region merged, as a reader sees them. */
function shape(sql: string): string[] {
  const result: string[] = [];
  for (const region of regions(sql)) if (result.at(-1) !== region) result.push(region);
  return result;
}

describe("reading a statement", () => {
  it("finds each kind of region and the placeholders in them", () => {
    const tokens = tokenize(
      `CREATE ROLE "{{name}}" PASSWORD '{{password}}' VALID UNTIL E'{{expiration}}'; -- {{name}}\nDO $x$ {{name}} $x$ /* {{name}} /* nested */ */ U&"{{name}}"`,
    );
    const placeholders = tokens
      .filter((token): token is Extract<Token, { kind: "placeholder" }> => token.kind === "placeholder")
      .map((token) => [token.name, token.region]);
    expect(placeholders).toEqual([
      ["name", "identifier"],
      ["password", "literal"],
      ["expiration", "escape-literal"],
      ["name", "line-comment"],
      ["name", "dollar"],
      ["name", "block-comment"],
      ["name", "unicode-identifier"],
    ]);
  });

  it("knows doubled quotes, backslash escapes and identifiers that merely contain E or $", () => {
    expect(shape(`SELECT 'it''s', "a""b", E'\\'', e'x'`)).toEqual([
      "code",
      "literal",
      "code",
      "identifier",
      "code",
      "escape-literal",
      "code",
      "escape-literal",
    ]);
    expect(shape(`SELECT name'x'`)).toEqual(["code", "literal"]);
    expect(shape(`SELECT a$b$ FROM t`)).toEqual(["code"]);
    expect(shape(`SELECT $1, $$ a $ b $$`)).toEqual(["code", "dollar"]);
  });

  it("refuses statements that end inside a quote or a comment", () => {
    for (const [sql, what] of [
      [`SELECT 'x`, "string constant"],
      [`SELECT "x`, "quoted identifier"],
      [`DO $a$ x $b$`, "dollar-quoted string"],
      [`SELECT /* /* */`, "comment"],
    ]) {
      expect(() => tokenize(sql as string)).toThrow(`the statement ends inside an unterminated ${what}`);
    }
  });

  it("refuses statements that would end the transaction they run in", () => {
    for (const statement of [
      `CREATE ROLE "{{name}}"; COMMIT; GRANT x TO "{{name}}"`,
      "end",
      "ROLLBACK",
      "abort;",
      "PREPARE TRANSACTION 'x'",
    ]) {
      expect(() => checkStatements("creation_statements", [statement], ["name"])).toThrow(
        /would end the transaction Coffer runs the statements in/,
      );
    }
    for (const statement of [
      `SELECT CASE WHEN true THEN 1 END; SELECT 'COMMIT'; SELECT "end" FROM t`,
      `DO $$ BEGIN COMMIT; END $$`,
      "SAVEPOINT a; ROLLBACK TO a; RELEASE a",
      "-- COMMIT\nSELECT 1",
    ]) {
      expect(() => checkStatements("creation_statements", [statement], ["name"])).not.toThrow();
    }
  });

  it("checks placeholders per statement kind, naming the field and the statement", () => {
    expect(() =>
      checkStatements("creation_statements", [`SELECT 1`, `CREATE ROLE "{{user}}"`], ["name"]),
    ).toThrow('"creation_statements" statement 2: unknown placeholder {{user}}; use {{name}}');
    expect(() =>
      checkStatements("renew_statements", [`SELECT '{{expiration}}'`], ["expiration"]),
    ).not.toThrow();
  });
});

describe("rendering", () => {
  it("escapes for each place, and quotes bare placeholders by their kind", () => {
    const values = { name: `a"b'c`, password: `p"q'r`, expiration: "2030-01-01 00:00:00+0000" };
    expect(renderStatement(`CREATE ROLE "{{name}}" PASSWORD '{{password}}'`, values)).toBe(
      `CREATE ROLE "a""b'c" PASSWORD 'p"q''r'`,
    );
    expect(renderStatement(`CREATE ROLE {{name}} PASSWORD {{password}}`, values)).toBe(
      `CREATE ROLE "a""b'c" PASSWORD 'p"q''r'`,
    );
    expect(renderStatement(`SELECT E'{{password}}'`, { password: `x\\'y` })).toBe(`SELECT E'x\\\\''y'`);
    expect(renderStatement(`DO $$ BEGIN PERFORM '{{expiration}}'; END $$`, values)).toBe(
      `DO $$ BEGIN PERFORM '2030-01-01 00:00:00+0000'; END $$`,
    );
  });

  it("refuses what it cannot render safely", () => {
    expect(() => renderStatement(`SELECT '{{password}}'`, { password: "a\\b" })).toThrow(/backslash/);
    expect(() => renderStatement(`SELECT "{{name}}"`, { name: "a\0b" })).toThrow(/NUL/);
    expect(() => renderStatement(`DO $$ {{name}} $$`, { name: "a$$b" })).toThrow(/dollar-quoted/);
    expect(() => renderStatement(`DO $$ {{name}} $$`, { name: "a--b" })).toThrow(/dollar-quoted/);
    expect(() => renderStatement(`SELECT 1 /* {{name}} */`, { name: "*/ DROP" })).toThrow(/comment/);
    expect(() => renderStatement(`SELECT "{{name}}"`, {})).toThrow(/unknown placeholder \{\{name\}\}/);
  });

  // Any text without NUL; backslashes only where they can be escaped.
  const anyValue = fc.string({ unit: "grapheme", maxLength: 40 }).filter((value) => !value.includes("\0"));
  const noBackslash = anyValue.filter((value) => !value.includes("\\"));

  it("keeps any value inside its quoted identifier", () => {
    fc.assert(
      fc.property(anyValue, (name) => {
        const sql = renderStatement(`DROP ROLE "{{name}}"; SELECT 1`, { name });
        const tokens = tokenize(sql);
        expect(shape(sql)).toEqual(["code", "identifier", "code"]);
        const identifier = tokens.find((token) => token.region === "identifier") as { text: string };
        expect(identifier.text.slice(1, -1).replaceAll('""', '"')).toBe(name);
      }),
    );
  });

  it("keeps any value inside its string constant, standard or escaped", () => {
    fc.assert(
      fc.property(noBackslash, anyValue, (password, escaped) => {
        const sql = renderStatement(`ALTER ROLE x PASSWORD '{{password}}' VALID UNTIL E'{{expiration}}';`, {
          password,
          expiration: escaped,
        });
        expect(shape(sql)).toEqual(["code", "literal", "code", "escape-literal", "code"]);
        const [literal, escapedLiteral] = tokenize(sql).filter((token) => token.region !== "code") as {
          text: string;
        }[];
        expect(literal!.text.slice(1, -1).replaceAll("''", "'")).toBe(password);
        expect(
          escapedLiteral!.text
            .slice(1, -1)
            .replace(/\\(.)|''/gs, (_match, escapedChar: string | undefined) => escapedChar ?? "'"),
        ).toBe(escaped);
      }),
    );
  });

  it("turns any bare value into one quoted token", () => {
    fc.assert(
      fc.property(anyValue, noBackslash, (name, password) => {
        const sql = renderStatement(`CREATE ROLE {{name}} PASSWORD {{password}}`, { name, password });
        expect(shape(sql)).toEqual(["code", "identifier", "code", "literal"]);
      }),
    );
  });

  it("renders a value into a dollar-quoted body or a comment only when it is inert there", () => {
    fc.assert(
      fc.property(anyValue, (name) => {
        let sql: string;
        try {
          sql = renderStatement(`DO $b$ {{name}} $b$; -- {{name}}\nSELECT 1`, { name });
        } catch {
          return; // refused: nothing to run
        }
        expect(shape(sql)).toEqual(["code", "dollar", "code", "line-comment", "code"]);
        expect(name).toMatch(/^[A-Za-z0-9 _.:+@=/-]*$/);
      }),
    );
  });
});
