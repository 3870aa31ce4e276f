/**
 * The broker core must run on edge runtimes (Web Crypto, fetch, no Node built-ins), so
 * only files named *.node.ts under shared/ may use Node. This test reads the sources.
 *
 * One engine needs Node as a whole: the database engine speaks PostgreSQL over Node's
 * sockets. Its files may import its own *.node.ts adapter; the registry loads it on first
 * use, so a runtime without Node never loads it unless a database mount is enabled.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const sharedDir = join(root, "shared");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".")) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Engines that need Node as a whole (docs/architecture.md names them). */
const NODE_ONLY_ENGINES = ["shared/engines/database/"];
const NODE_ONLY_ADAPTER = "imports a Node-only adapter";

const FORBIDDEN: [RegExp, string][] = [
  [/\bfrom\s+["']node:/, "imports a node: module"],
  [/\bimport\(\s*["']node:/, "imports a node: module"],
  [
    /\bfrom\s+["'](fs|path|os|crypto|child_process|net|http|https|stream|buffer|util)["']/,
    "imports a Node built-in",
  ],
  [/\brequire\(/, "uses require()"],
  [/\bprocess\.env\b/, "reads process.env"],
  [/\bBuffer\./, "uses Buffer"],
  [/\bfrom\s+["'][^"']*\.node\.ts["']/, NODE_ONLY_ADAPTER],
  [/\bfrom\s+["']better-sqlite3["']/, "imports better-sqlite3"],
  [/^\s*import\s+(?!type\b)[^;]*?\bfrom\s+["']pg["']/m, "imports the PostgreSQL driver"],
];

describe("shared/ stays runtime-agnostic", () => {
  const files = sourceFiles(sharedDir).filter((file) => !file.endsWith(".node.ts"));

  it("has core files to check", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it("uses no Node built-ins, process.env or Node-only adapters outside *.node.ts", () => {
    const violations: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      const path = relative(root, file);
      const nodeOnlyEngine = NODE_ONLY_ENGINES.some((folder) => path.startsWith(folder));
      for (const [pattern, what] of FORBIDDEN) {
        if (nodeOnlyEngine && what === NODE_ONLY_ADAPTER) continue;
        if (pattern.test(source)) violations.push(`${path} ${what}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("catches a violation (the check itself works)", () => {
    const sample =
      'import { readFileSync } from "node:fs";\nconst x = process.env.HOME;\nimport pg from "pg";\nimport type { PoolClient } from "pg";';
    const caught = FORBIDDEN.filter(([pattern]) => pattern.test(sample)).map(([, what]) => what);
    expect(caught).toEqual(["imports a node: module", "reads process.env", "imports the PostgreSQL driver"]);
    expect(FORBIDDEN.some(([pattern]) => pattern.test('import type { PoolClient } from "pg";'))).toBe(false);
  });
});
