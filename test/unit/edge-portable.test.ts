/**
 * The broker core must run on edge runtimes (Web Crypto, fetch, no Node built-ins), so
 * only files named *.node.ts under shared/ may use Node. This test reads the sources.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const sharedDir = join(root, "shared");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

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
  [/\bfrom\s+["'][^"']*\.node\.ts["']/, "imports a Node-only adapter"],
  [/\bfrom\s+["']better-sqlite3["']/, "imports better-sqlite3"],
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
      for (const [pattern, what] of FORBIDDEN) {
        if (pattern.test(source)) violations.push(`${relative(root, file)} ${what}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("catches a violation (the check itself works)", () => {
    const sample = 'import { readFileSync } from "node:fs";\nconst x = process.env.HOME;';
    const caught = FORBIDDEN.filter(([pattern]) => pattern.test(sample)).map(([, what]) => what);
    expect(caught).toEqual(["imports a node: module", "reads process.env"]);
  });
});
