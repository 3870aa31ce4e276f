/**
 * The `coffer` command as it ships: the bundle scripts/build.ts makes (build/cli/), and
 * the npm package around it. The bundle runs on Node.js alone, from a directory with no
 * node_modules, without tsx and without fetch; each command loads only its own code; the
 * package holds the bundle, its bin, the docs and the license, and no sources or tests.
 */
import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BundleReport,
  buildCli,
  CLI_ENTRY,
  cliBundleProblems,
  loadedAtStart,
} from "../../scripts/build.ts";
import { NOTICES_FILE } from "../../scripts/third-party-notices.ts";
import { SHOP_SECRETS, useShopDevServer } from "../support/shop-dev-server.ts";
import { ROOT } from "./platform.ts";

const outRoot = mkdtempSync(join(tmpdir(), "coffer-cli-build-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

function metafile(outputs: Metafile["outputs"], inputs: string[] = []): Metafile {
  return { inputs: Object.fromEntries(inputs.map((path) => [path, { bytes: 1, imports: [] }])), outputs };
}
const output = (
  inputs: string[],
  imports: { path: string; kind?: "import-statement" | "dynamic-import"; external?: boolean }[] = [],
) => ({
  bytes: 1,
  inputs: Object.fromEntries(inputs.map((input) => [input, { bytesInOutput: 1 }])),
  imports: imports.map((i) => ({
    path: i.path,
    kind: i.kind ?? "import-statement",
    external: i.external ?? false,
  })),
  exports: [],
});

describe("what the command's bundle may load, and when", () => {
  it("accepts drivers and the AWS SDK in chunks that commands import when they run", () => {
    const lazy = metafile({
      "build/cli/coffer.mjs": output(
        ["cli/main.ts", "node_modules/commander/index.js"],
        [
          { path: "build/cli/chunks/shared.mjs" },
          { path: "build/cli/chunks/dev.mjs", kind: "dynamic-import" },
          { path: "node:fs", external: true },
        ],
      ),
      "build/cli/chunks/shared.mjs": output(["cli/client.ts"]),
      "build/cli/chunks/dev.mjs": output(
        ["cli/dev.ts", "node_modules/pg/lib/index.js", "node_modules/@aws-sdk/client-kms/dist-es/index.js"],
        [{ path: "better-sqlite3", external: true }],
      ),
    });
    expect(loadedAtStart(lazy, "build/cli/coffer.mjs")).toEqual([
      "build/cli/coffer.mjs",
      "build/cli/chunks/shared.mjs",
    ]);
    expect(cliBundleProblems(lazy, "build/cli/coffer.mjs")).toEqual([]);
  });

  it("refuses a driver loaded at start, a development tool, and a package left to node_modules", () => {
    const eager = metafile(
      {
        "build/cli/coffer.mjs": output(["cli/main.ts"], [{ path: "build/cli/chunks/shared.mjs" }]),
        "build/cli/chunks/shared.mjs": output(
          ["node_modules/pg/lib/index.js", "shared/store/sqlite.node.ts"],
          [
            { path: "better-sqlite3", external: true },
            { path: "hono", external: true },
          ],
        ),
      },
      ["cli/main.ts", "node_modules/tsx/dist/esm/api/index.mjs"],
    );
    expect(cliBundleProblems(eager, "build/cli/coffer.mjs")).toEqual([
      "node_modules/tsx/dist/esm/api/index.mjs: the development tool tsx",
      'build/cli/chunks/shared.mjs: imports "hono", which would be missing at run time',
      "build/cli/chunks/shared.mjs: loads the PostgreSQL driver (node_modules/pg/lib/index.js) when any command starts",
      "build/cli/chunks/shared.mjs: loads a Node-only adapter (*.node.ts) (shared/store/sqlite.node.ts) when any command starts",
      "build/cli/chunks/shared.mjs: loads better-sqlite3 when any command starts",
    ]);
  });
});

/** Run with fetch gone: the command and the agent speak node:http (cli/http-request.ts). */
const WITHOUT_FETCH = `data:text/javascript,${encodeURIComponent(
  'Object.defineProperty(globalThis, "fetch", { get() { throw new Error("fetch is not for the command") } })',
)}`;

describe("the coffer command's bundle", () => {
  let cli: BundleReport;
  const shop = useShopDevServer();
  let work: string;
  const entry = () => join(cli.outdir, `${CLI_ENTRY.name}.mjs`);
  // Not synchronously: the dev server answers from this process.
  const run = async (args: string[], env: Record<string, string> = {}) =>
    (
      await promisify(execFile)(process.execPath, [`--import=${WITHOUT_FETCH}`, entry(), ...args], {
        // No node_modules around it, and a PATH and nothing else from this environment.
        cwd: work,
        env: { PATH: process.env.PATH, HOME: work, ...env },
        encoding: "utf8",
      })
    ).stdout;

  beforeAll(async () => {
    cli = await buildCli({ root: ROOT, outRoot });
    work = mkdtempSync(join(tmpdir(), "coffer-cli-run-"));
  }, 120_000);
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
  });

  it("leaves SQLite, PostgreSQL, the AWS SDK and the dev server to the commands that use them", () => {
    const meta: Metafile = JSON.parse(readFileSync(join(outRoot, "cli.meta.json"), "utf8"));
    const entryOutput = Object.keys(meta.outputs).find(
      (name) => meta.outputs[name]?.entryPoint === CLI_ENTRY.entry,
    );
    const atStart = new Set(loadedAtStart(meta, entryOutput as string));
    const outputsWith = (test: (out: Metafile["outputs"][string]) => boolean) =>
      Object.entries(meta.outputs)
        .filter(([, out]) => test(out))
        .map(([name]) => name);
    const sqlite = outputsWith((out) => out.imports.some((i) => i.external && i.path === "better-sqlite3"));
    const postgres = outputsWith((out) =>
      Object.keys(out.inputs).some((i) => i.includes("node_modules/pg/")),
    );
    const aws = outputsWith((out) =>
      Object.keys(out.inputs).some((i) => i.includes("node_modules/@aws-sdk/")),
    );
    for (const [what, outputs] of Object.entries({ sqlite, postgres, aws })) {
      expect(outputs.length, what).toBeGreaterThan(0);
      expect(
        outputs.filter((name) => atStart.has(name)),
        what,
      ).toEqual([]);
    }
  });

  it("prints its help from the bundle alone", async () => {
    expect(await run(["--help"])).toMatch(/^Usage: coffer \[options\] \[command\]/);
  });

  it("reads a secret with kv get, over node:http", async () => {
    const out = await run(["kv", "get", "-field=password", "secret/shop/db"], {
      COFFER_ADDR: shop.url,
      COFFER_TOKEN: shop.rootToken,
    });
    expect(out.trim()).toBe(SHOP_SECRETS.db.password);
  });

  it("runs the agent once: a Kubernetes login, then the secret in its file", async () => {
    const dir = join(work, "agent");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "token"), await shop.projectedToken());
    writeFileSync(
      join(dir, "agent.yaml"),
      [
        "auth: { method: kubernetes, role: shop-api, token_file: token }",
        "secrets:",
        "  - { path: secret/data/shop/db, destination: out/db-password, format: raw, field: password }",
      ].join("\n"),
    );
    await run(["agent", "--once", "--config", join(dir, "agent.yaml")], { COFFER_ADDR: shop.url });
    expect(await readFile(join(dir, "out/db-password"), "utf8")).toBe(SHOP_SECRETS.db.password);
  });

  it("carries the licenses of the packages it bundles", () => {
    const notices = readFileSync(join(cli.outdir, NOTICES_FILE), "utf8");
    for (const pkg of ["commander@", "hono@", "jose@", "yaml@", "pg@", "@aws-sdk/client-kms@"]) {
      expect(notices).toContain(pkg);
    }
    expect(notices).toContain("Permission is hereby granted, free of charge");
    expect(notices).not.toMatch(/better-sqlite3@/);
  });
});

describe("the npm package", () => {
  let pkg: string;

  /** A copy of the project with the bundle built and decoys that must stay out. */
  beforeAll(async () => {
    const cli = await buildCli({ root: ROOT, outRoot: mkdtempSync(join(tmpdir(), "coffer-pack-build-")) });
    pkg = mkdtempSync(join(tmpdir(), "coffer-pack-"));
    for (const path of [
      "package.json",
      "README.md",
      "LICENSE",
      "cli",
      "docs",
      "deploy",
      "shared/version.ts",
    ]) {
      cpSync(join(ROOT, path), join(pkg, path), { recursive: true });
    }
    cpSync(cli.outdir, join(pkg, "build/cli"), { recursive: true });
    for (const decoy of [
      "test/unit/x.test.ts",
      "build/api/api.mjs",
      ".coffer/root.key",
      "scripts/build.ts",
    ]) {
      mkdirSync(join(pkg, decoy, ".."), { recursive: true });
      writeFileSync(join(pkg, decoy), "decoy");
    }
  }, 120_000);
  afterAll(() => rmSync(pkg, { recursive: true, force: true }));

  it("holds the bundle, its bin, the docs, the manifests and the license; no sources or tests", () => {
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: pkg,
        encoding: "utf8",
      }),
    ) as [{ files: { path: string }[] }];
    const paths = packed.files.map((file) => file.path);
    const outside = paths.filter(
      (path) =>
        !/^(build\/cli\/|docs\/|deploy\/kubernetes\/)/.test(path) &&
        !["cli/bin.mjs", "LICENSE", "README.md", "package.json"].includes(path),
    );
    expect(outside).toEqual([]);
    expect(paths).toEqual(
      expect.arrayContaining(["LICENSE", "cli/bin.mjs", "build/cli/coffer.mjs", `build/cli/${NOTICES_FILE}`]),
    );
    expect(paths.filter((path) => path.endsWith(".ts"))).toEqual([]);
  });

  it("runs the bundle from its bin, with no sources, tsx or node_modules beside it", () => {
    const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--silent"], {
      cwd: pkg,
      encoding: "utf8",
    });
    const unpacked = mkdtempSync(join(tmpdir(), "coffer-unpacked-"));
    try {
      execFileSync("tar", ["-xzf", join(pkg, tarball.trim()), "-C", unpacked]);
      const help = execFileSync(process.execPath, [join(unpacked, "package/cli/bin.mjs"), "--help"], {
        cwd: unpacked,
        env: { PATH: process.env.PATH },
        encoding: "utf8",
      });
      expect(help).toMatch(/^Usage: coffer/);
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  });
});
