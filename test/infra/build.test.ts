/**
 * scripts/build.ts: the bundles `sst deploy` ships. They must load on Node.js with only
 * built-in modules around them, keep lazily loaded engines out of the entry chunk, and
 * never carry a Node-only adapter.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BundleReport,
  buildFunction,
  buildFunctions,
  bundleProblems,
  FUNCTIONS,
  loadedAtStart,
} from "../../scripts/build.ts";
import {
  apiStatements,
  injectorStatements,
  LOG_ACTIONS,
  revokerStatements,
} from "../../stacks/function-permissions.ts";
import { ROOT } from "./platform.ts";

const outRoot = mkdtempSync(join(tmpdir(), "coffer-build-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

function metafile(inputs: string[], imports: { path: string; external?: boolean }[] = []): Metafile {
  return {
    inputs: Object.fromEntries(inputs.map((path) => [path, { bytes: 1, imports: [] }])),
    outputs: {
      "build/api/api.mjs": {
        bytes: 1,
        inputs: {},
        imports: imports.map((i) => ({
          path: i.path,
          kind: "import-statement" as const,
          external: i.external ?? true,
        })),
        exports: ["handler"],
        entryPoint: "functions/api.ts",
      },
    },
  };
}

describe("what a bundle may contain", () => {
  it("accepts core code, the AWS SDK, Node built-ins and the adapters meant for Lambda's Node", () => {
    const ok = metafile(
      [
        "functions/api.ts",
        "shared/app.ts",
        "node_modules/@aws-sdk/client-kms/dist-es/index.js",
        "shared/crypto/symmetric.node.ts",
      ],
      [{ path: "node:crypto" }, { path: "stream" }, { path: "fs/promises" }],
    );
    expect(bundleProblems(ok)).toEqual([]);
  });

  it("refuses Node-only packages, *.node.ts adapters, native addons, the CLI and unbundled packages", () => {
    const bad = metafile(
      [
        "node_modules/better-sqlite3/lib/index.js",
        "node_modules/bindings/bindings.js",
        "shared/store/sqlite.node.ts",
        "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
        "cli/local-broker.ts",
        "node_modules/@hono/node-server/dist/index.mjs",
      ],
      [{ path: "better-sqlite3" }, { path: "./chunk.mjs", external: false }],
    );
    expect(bundleProblems(bad)).toEqual([
      "node_modules/better-sqlite3/lib/index.js: the Node-only package better-sqlite3",
      "node_modules/bindings/bindings.js: the Node-only package bindings",
      "shared/store/sqlite.node.ts: a Node-only adapter (*.node.ts)",
      "node_modules/better-sqlite3/build/Release/better_sqlite3.node: the Node-only package better-sqlite3",
      "cli/local-broker.ts: CLI code",
      "node_modules/@hono/node-server/dist/index.mjs: the Node-only package @hono/node-server",
      'build/api/api.mjs: imports "better-sqlite3", which would be missing at run time',
    ]);
  });

  it("fails the build of a function that imports the SQLite adapter, and leaves no bundle behind", async () => {
    const entry = {
      name: "leaky",
      entry: "test/infra/fixtures/node-only-handler.ts",
      handlerExport: "handler",
    };
    await expect(buildFunction(entry, { root: ROOT, outRoot })).rejects.toThrow(
      /the leaky bundle is not deployable:[\s\S]*better-sqlite3[\s\S]*sqlite\.node\.ts: a Node-only adapter/,
    );
    expect(() => execFileSync("ls", [join(outRoot, "leaky")], { stdio: "pipe" })).toThrow();
  });

  it("fails the build of an entry that does not export its handler", async () => {
    const entry = { name: "nohandler", entry: "test/infra/fixtures/no-handler.ts", handlerExport: "handler" };
    await expect(buildFunction(entry, { root: ROOT, outRoot })).rejects.toThrow(/does not export "handler"/);
  });
});

// Built once for the suites below; a failed build fails them all, with the build's error.
let built: Promise<BundleReport[]> | undefined;
const buildAll = () => {
  built ??= buildFunctions({ root: ROOT, outRoot });
  return built;
};

describe("the function bundles", () => {
  let reports: BundleReport[];

  beforeAll(async () => {
    reports = await buildAll();
  }, 120_000);

  it("builds every function into build/<function>/<function>.mjs with its handler", () => {
    expect(reports.map((r) => [r.name, r.handler, r.files.some((f) => f.path === `${r.name}.mjs`)])).toEqual(
      FUNCTIONS.map((fn) => [fn.name, `${fn.name}.handler`, true]),
    );
  });

  it("splits the lazily loaded engines out of the API's entry chunk", async () => {
    const meta: Metafile = (await import(join(outRoot, "api.meta.json"), { with: { type: "json" } })).default;
    const [, entry] = Object.entries(meta.outputs).find(
      ([, output]) => output.entryPoint === "functions/api.ts",
    )!;
    const inEntry = Object.keys(entry.inputs);
    expect(inEntry.filter((input) => input.startsWith("shared/engines/kv/"))).toEqual([]);
    expect(Object.keys(meta.outputs).some((output) => output.includes("/chunks/"))).toBe(true);
  });

  it("loads the tracer and the X-Ray SDK only in a function that traces, as a chunk of their own", () => {
    for (const name of ["api", "revoker"]) {
      const meta: Metafile = JSON.parse(readFileSync(join(outRoot, `${name}.meta.json`), "utf8"));
      const [entry] = Object.entries(meta.outputs).find(
        ([, output]) => output.entryPoint === `functions/${name}.ts`,
      )!;
      const tracer = /node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer)\//;
      const atStart = loadedAtStart(meta, entry).flatMap((output) =>
        Object.keys(meta.outputs[output]!.inputs),
      );
      expect({ name, tracer: atStart.filter((input) => tracer.test(input)) }).toEqual({ name, tracer: [] });
      // Powertools' Logger and Metrics are on the initialization path: every invocation logs.
      expect(atStart.some((input) => input.includes("@aws-lambda-powertools/logger/"))).toBe(true);
      const chunks = Object.entries(meta.outputs).filter(([, output]) =>
        Object.keys(output.inputs).some((input) => tracer.test(input)),
      );
      expect(
        chunks.map(([, output]) => Object.keys(output.inputs).includes("functions/xray-tracing.ts")),
      ).toEqual([true]);
    }
  });

  it("loads on Node.js from the bundle alone and exports a handler", () => {
    for (const report of reports) {
      const loaded = execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(join(report.outdir, `${report.name}.mjs`))}); process.stdout.write(typeof m.handler);`,
        ],
        {
          // No node_modules next to the bundle, and configuration that needs no network to load.
          cwd: tmpdir(),
          env: {
            PATH: process.env.PATH,
            COFFER_TABLE: "t",
            COFFER_KMS_KEY_ID: "k",
            AWS_REGION: "us-east-1",
            NODE_NO_WARNINGS: "1",
          },
          encoding: "utf8",
        },
      );
      expect({ name: report.name, handler: loaded }).toEqual({ name: report.name, handler: "function" });
    }
  });
});

/** The IAM actions each SDK command needs, for the commands Coffer's own code sends. */
const ACTIONS_OF_COMMAND: Record<string, string[]> = {
  GetItemCommand: ["dynamodb:GetItem"],
  BatchGetItemCommand: ["dynamodb:BatchGetItem"],
  QueryCommand: ["dynamodb:Query"],
  PutItemCommand: ["dynamodb:PutItem"],
  DeleteItemCommand: ["dynamodb:DeleteItem"],
  // Authorized item by item.
  TransactWriteItemsCommand: ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
  GenerateDataKeyCommand: ["kms:GenerateDataKey"],
  DecryptCommand: ["kms:Decrypt"],
  // With session tags, which need their own permission.
  AssumeRoleCommand: ["sts:AssumeRole", "sts:TagSession"],
  PutRolePolicyCommand: ["iam:PutRolePolicy"],
  DeleteRolePolicyCommand: ["iam:DeleteRolePolicy"],
};
/** Bundled, but only ever sent by tests and `coffer dev` setting up a table. */
const NOT_SENT_BY_FUNCTIONS = new Set([
  "CreateTableCommand",
  "DescribeTimeToLiveCommand",
  "UpdateTimeToLiveCommand",
]);

/** The IAM actions the commands in a bundle's own (non-package) sources need. */
function actionsUsedBy(name: string): { actions: string[]; unmapped: string[] } {
  const meta: Metafile = JSON.parse(readFileSync(join(outRoot, `${name}.meta.json`), "utf8"));
  const commands = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    if (input.includes("node_modules/")) continue;
    for (const match of readFileSync(join(ROOT, input), "utf8").matchAll(/new (\w+Command)\(/g))
      commands.add(match[1]!);
  }
  const used = [...commands].filter((command) => !NOT_SENT_BY_FUNCTIONS.has(command));
  return {
    actions: [...new Set(used.flatMap((command) => ACTIONS_OF_COMMAND[command] ?? []))].sort(),
    unmapped: used.filter((command) => !(command in ACTIONS_OF_COMMAND)),
  };
}

describe("function permissions against the code", () => {
  const resources = { tableArn: "t", keyArn: "k", logStreamsArn: "l", targetRoles: ["r"] };
  const granted = (statements: { actions: string[] }[]) =>
    [...new Set(statements.flatMap((s) => s.actions))]
      .filter((action) => !LOG_ACTIONS.includes(action))
      .sort();

  beforeAll(async () => {
    await buildAll();
  }, 120_000);

  it("grants the API exactly the AWS calls its bundle makes", () => {
    const used = actionsUsedBy("api");
    expect(used.unmapped).toEqual([]);
    expect(granted(apiStatements(resources))).toEqual(used.actions);
  });

  it("grants the revoker nothing its bundle does not call, and no way to issue credentials", () => {
    const used = actionsUsedBy("revoker");
    expect(used.unmapped).toEqual([]);
    const revoker = granted(revokerStatements(resources));
    expect(revoker.filter((action) => !used.actions.includes(action))).toEqual([]);
    expect(revoker.filter((action) => action.startsWith("sts:"))).toEqual([]);
  });

  it("grants the injector nothing but its log: its bundle makes no AWS call and holds no AWS SDK", () => {
    expect(actionsUsedBy("injector")).toEqual({ actions: [], unmapped: [] });
    expect(granted(injectorStatements(resources))).toEqual([]);
    const meta: Metafile = JSON.parse(readFileSync(join(outRoot, "injector.meta.json"), "utf8"));
    expect(Object.keys(meta.inputs).filter((input) => input.includes("node_modules/"))).toEqual([]);
  });
});
