/**
 * The layering docs/architecture.md describes, checked on the sources: engines see the
 * contract, never the container; leases never reach back into engines; the contract
 * imports nothing above it; shared/ has no import cycle; the edges compose through the
 * registry and the broker, never by reaching into an engine's folder.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  // Dot folders are scratch space (the example engine's test writes one), never sources.
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".")) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

/** The project-relative files a source imports, type-only imports included. */
function importsOf(file: string, source: string): string[] {
  return [...source.matchAll(IMPORT)].map((match) =>
    relative(root, resolve(root, dirname(file), match[1] ?? "")),
  );
}

const graph = new Map<string, string[]>(
  ["shared", "cli", "functions"]
    .flatMap(sourceFiles)
    .map((file) => [file, importsOf(file, readFileSync(join(root, file), "utf8"))]),
);

/** Folders holding one engine each: everything but the contract files beside them. */
const ENGINE_FOLDERS = [
  ...readdirSync(join(root, "shared/engines"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => `shared/engines/${entry.name}/`),
  "shared/auth/kubernetes/",
];

const CONTRACT = /^shared\/engines\/[^/]+\.ts$/;
/** What the contract may stand on: itself and the layers below the container. */
const BELOW_THE_CONTRACT = [CONTRACT, /^shared\/(errors|log|tracing)\.ts$/, /^shared\/(crypto|store)\//];

function violations(from: (file: string) => boolean, to: (target: string) => boolean): string[] {
  return [...graph]
    .filter(([file]) => from(file))
    .flatMap(([file, targets]) => targets.filter(to).map((target) => `${file} -> ${target}`));
}

const inEngine = (file: string) => ENGINE_FOLDERS.some((folder) => file.startsWith(folder));

/** Every cycle's files, each cycle once, found by depth-first search over shared/. */
function cyclesIn(edges: Map<string, string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const target of edges.get(file) ?? []) {
      if (!edges.has(target)) continue;
      if (state.get(target) === "open") cycles.push(stack.slice(stack.indexOf(target)));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe("the kernel's layering", () => {
  it("reads the sources it checks", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("shared/broker.ts")).toContain("shared/engines/engine.ts");
    expect(ENGINE_FOLDERS).toEqual(expect.arrayContaining(["shared/engines/kv/", "shared/auth/kubernetes/"]));
  });

  it("keeps engines off the container, the mount table and the core's auth", () => {
    const above = (target: string) =>
      target === "shared/broker.ts" ||
      target.startsWith("shared/mounts/") ||
      (target.startsWith("shared/auth/") && !inEngine(target));
    expect(violations(inEngine, above)).toEqual([]);
  });

  it("keeps leases off the container and every engine", () => {
    expect(
      violations(
        (file) => file.startsWith("shared/leases/"),
        (target) => target === "shared/broker.ts" || inEngine(target),
      ),
    ).toEqual([]);
  });

  it("builds the engine contract on nothing above it", () => {
    expect(
      violations(
        (file) => CONTRACT.test(file),
        (target) => !BELOW_THE_CONTRACT.some((allowed) => allowed.test(target)),
      ),
    ).toEqual([]);
  });

  it("has no import cycle in shared/", () => {
    const shared = new Map([...graph].filter(([file]) => file.startsWith("shared/")));
    expect(cyclesIn(shared).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });

  it("lets the edges reach engines only through the registry and the broker", () => {
    expect(violations((file) => file.startsWith("cli/") || file.startsWith("functions/"), inEngine)).toEqual(
      [],
    );
  });

  it("catches what it is meant to catch (the checks themselves work)", () => {
    expect(importsOf("shared/a/b.ts", 'import type { X } from "../c.ts";\nawait import("./d.ts");')).toEqual([
      "shared/c.ts",
      "shared/a/d.ts",
    ]);
    const cyclic = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(cyclesIn(cyclic)).toEqual([["a", "b", "c"]]);
  });
});
