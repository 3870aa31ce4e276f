/**
 * Bundles the Lambda functions: build/<function>/<function>.mjs plus the chunks esbuild
 * splits off for code loaded lazily (engines), ESM for Node.js 22, minified, with the AWS
 * SDK inside (the one the code was tested with, not whatever the runtime ships).
 *
 * The build fails when a bundle pulls in something that only works on a developer's
 * machine (better-sqlite3 and its native binary, the node:http dev server, the CLI, any
 * *.node.ts adapter) or leaves a package to be found at run time, and when an entry point
 * does not export its handler. It prints what each bundle weighs.
 *
 * It also bundles the `coffer` command (build/cli/, see buildCli).
 *
 * `npm run build` runs it; so does `sst deploy` (stacks/function-bundles.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { buildUi } from "./build-ui.ts";
import { NOTICES_FILE, thirdPartyNotices } from "./third-party-notices.ts";

export interface FunctionEntry {
  name: string;
  entry: string;
  /** The export Lambda calls: the handler is "<name>.<export>" inside the bundle. */
  handlerExport: string;
}

export const FUNCTIONS: readonly FunctionEntry[] = [
  { name: "api", entry: "functions/api.ts", handlerExport: "handler" },
  { name: "revoker", entry: "functions/revoker.ts", handlerExport: "handler" },
  { name: "injector", entry: "functions/injector.ts", handlerExport: "handler" },
];

/** Packages that serve only the CLI and `coffer dev`. */
const NODE_ONLY_PACKAGES = [
  "better-sqlite3",
  "bindings",
  "file-uri-to-path",
  "prebuild-install",
  "@hono/node-server",
  "commander",
  "tsx",
  "esbuild",
];

// Bundled CommonJS code that calls require() for a Node built-in needs a real require.
const REQUIRE_SHIM =
  'import{createRequire as __cofferCreateRequire}from"node:module";const require=__cofferCreateRequire(import.meta.url);';

export interface BundleFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

export interface BundleReport {
  name: string;
  outdir: string;
  /** What runs it: a Lambda handler ("<name>.<export>"), or the file node is given. */
  handler: string;
  files: BundleFile[];
  bytes: number;
  gzipBytes: number;
}

/**
 * Packages a bundled dependency may name without them being present, because the code
 * that loads them never runs in Coffer. Each entry says why.
 */
const OPTIONAL_ABSENT_PACKAGES: Readonly<Record<string, string>> = {
  // pg loads its native binding only when `pg.native` is read; Coffer uses the JS client.
  "pg-native": "pg's optional native binding",
};

/**
 * Node-only adapters (*.node.ts) that are for Lambda too: its runtime is Node. The others
 * (SQLite, the local root key file) serve only `coffer dev` and the CLI.
 */
const LAMBDA_NODE_ADAPTERS: Readonly<Record<string, string>> = {
  "shared/crypto/symmetric.node.ts": "synchronous node:crypto for envelopes and HMACs",
  "shared/engines/database/connection-pools.node.ts": "the database engine's PostgreSQL pools",
};

/** Why each input or import of the metafile must not be in a Lambda bundle; empty when none. */
export function bundleProblems(metafile: Metafile): string[] {
  const problems: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    const path = input.replaceAll("\\", "/");
    const pkg = NODE_ONLY_PACKAGES.find((name) => path.includes(`node_modules/${name}/`));
    if (pkg) problems.push(`${path}: the Node-only package ${pkg}`);
    else if (/\.node\.ts$/.test(path) && !LAMBDA_NODE_ADAPTERS[path])
      problems.push(`${path}: a Node-only adapter (*.node.ts)`);
    else if (/\.node$/.test(path)) problems.push(`${path}: a native addon`);
    else if (/(^|\/)cli\//.test(path) && !path.includes("node_modules/")) problems.push(`${path}: CLI code`);
  }
  const builtins = new Set(builtinModules);
  for (const [output, meta] of Object.entries(metafile.outputs)) {
    for (const imported of meta.imports) {
      if (!imported.external) continue;
      const name = imported.path.replace(/^node:/, "");
      if (imported.path.startsWith("node:") || builtins.has(name) || builtins.has(name.split("/")[0]!))
        continue;
      if (OPTIONAL_ABSENT_PACKAGES[imported.path]) continue;
      problems.push(`${output}: imports "${imported.path}", which would be missing at run time`);
    }
  }
  return [...new Set(problems)];
}

/** How every function is bundled; the cold start benchmark builds its baseline the same way. */
export const BUNDLE_OPTIONS = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  minify: true,
  // Prefer each package's ES module build: it tree-shakes and needs no require shim.
  mainFields: ["module", "main"],
  banner: { js: REQUIRE_SHIM },
  legalComments: "none",
  logLevel: "warning",
} as const satisfies BuildOptions;

/** One file per entry, and a chunk for each piece of code loaded lazily (import()). */
const SPLIT_INTO_CHUNKS = {
  splitting: true,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
} as const satisfies BuildOptions;

export class BundleError extends Error {
  override readonly name = "BundleError";
}

export async function buildFunction(
  fn: FunctionEntry,
  options: { root: string; outRoot: string },
): Promise<BundleReport> {
  const outdir = join(options.outRoot, fn.name);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: options.root,
    entryPoints: { [fn.name]: fn.entry },
    outdir,
    ...SPLIT_INTO_CHUNKS,
  });

  const problems = bundleProblems(result.metafile);
  const entryOutput = Object.entries(result.metafile.outputs).find(
    ([, meta]) => meta.entryPoint === fn.entry,
  );
  if (!entryOutput) problems.push(`${fn.entry}: no output for the entry point`);
  else if (!entryOutput[1].exports.includes(fn.handlerExport)) {
    problems.push(`${fn.entry}: does not export "${fn.handlerExport}"`);
  }
  if (problems.length > 0) {
    rmSync(outdir, { recursive: true, force: true });
    throw new BundleError(`the ${fn.name} bundle is not deployable:\n  ${problems.join("\n  ")}`);
  }
  // Beside the bundle, not in it: `npx esbuild --analyze`-style inspection without shipping it.
  writeFileSync(join(options.outRoot, `${fn.name}.meta.json`), JSON.stringify(result.metafile));

  return reportOf(
    { name: fn.name, handler: `${fn.name}.${fn.handlerExport}`, outdir },
    result.metafile,
    options,
  );
}

function reportOf(
  bundle: { name: string; handler: string; outdir: string },
  metafile: Metafile,
  options: { root: string },
): BundleReport {
  const files = Object.keys(metafile.outputs)
    .map((output) => {
      const absolute = resolve(options.root, output);
      const content = readFileSync(absolute);
      return {
        path: relative(bundle.outdir, absolute),
        bytes: content.length,
        gzipBytes: gzipSync(content).length,
      };
    })
    .sort((a, b) => b.bytes - a.bytes);
  return {
    ...bundle,
    files,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    gzipBytes: files.reduce((sum, file) => sum + file.gzipBytes, 0),
  };
}

export async function buildFunctions(options: {
  root: string;
  outRoot: string;
  functions?: readonly FunctionEntry[];
}): Promise<BundleReport[]> {
  mkdirSync(options.outRoot, { recursive: true });
  const reports: BundleReport[] = [];
  // One at a time: esbuild already uses every core, and errors then read in order.
  for (const fn of options.functions ?? FUNCTIONS) reports.push(await buildFunction(fn, options));
  return reports;
}

/** The `coffer` command: build/cli/coffer.mjs and the chunks its commands load when they run. */
export const CLI_ENTRY = { name: "coffer", entry: "cli/main.ts" } as const;

/** Packages the CLI bundle leaves to node_modules, and why. */
export const CLI_EXTERNAL_PACKAGES: Readonly<Record<string, string>> = {
  // A native addon cannot be bundled; only `coffer dev` and the sqlite operator commands load it.
  "better-sqlite3": "the SQLite driver, a native addon",
  ...OPTIONAL_ABSENT_PACKAGES,
};

/** What a command must not pay for when it starts: only the commands that use it load it. */
const LOADED_ON_DEMAND: readonly { input: RegExp; what: string }[] = [
  { input: /node_modules\/pg/, what: "the PostgreSQL driver" },
  { input: /node_modules\/@aws-sdk\//, what: "the AWS SDK" },
  { input: /\.node\.ts$/, what: "a Node-only adapter (*.node.ts)" },
  { input: /(^|\/)cli\/dev\.ts$/, what: "the dev server" },
  { input: /node_modules\/jose\//, what: "the JWT library (the dev issuer, login verification)" },
];

/** Tools of a checkout, which the bundle exists to do without. */
const DEVELOPMENT_PACKAGES = ["tsx", "esbuild", "typescript", "vitest"];

/** The outputs a process loads as soon as it imports the entry: the static import graph. */
export function loadedAtStart(metafile: Metafile, entry: string): string[] {
  const loaded = new Set<string>([entry]);
  for (const output of loaded) {
    for (const imported of metafile.outputs[output]?.imports ?? []) {
      if (!imported.external && imported.kind === "import-statement") loaded.add(imported.path);
    }
  }
  return [...loaded];
}

/** Why the CLI bundle's metafile is not the command to ship; empty when it is. */
export function cliBundleProblems(metafile: Metafile, entryOutput: string): string[] {
  const problems: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    const pkg = DEVELOPMENT_PACKAGES.find((name) => input.includes(`node_modules/${name}/`));
    if (pkg) problems.push(`${input}: the development tool ${pkg}`);
  }
  const builtins = new Set(builtinModules);
  for (const [output, meta] of Object.entries(metafile.outputs)) {
    for (const imported of meta.imports) {
      if (!imported.external || imported.path.startsWith("node:")) continue;
      if (builtins.has(imported.path) || builtins.has(imported.path.split("/")[0]!)) continue;
      if (!CLI_EXTERNAL_PACKAGES[imported.path]) {
        problems.push(`${output}: imports "${imported.path}", which would be missing at run time`);
      }
    }
  }
  for (const output of loadedAtStart(metafile, entryOutput)) {
    const meta = metafile.outputs[output];
    for (const rule of LOADED_ON_DEMAND) {
      const inputs = Object.keys(meta?.inputs ?? {}).filter((input) => rule.input.test(input));
      const more = inputs.length > 1 ? ` and ${inputs.length - 1} more` : "";
      if (inputs.length > 0)
        problems.push(`${output}: loads ${rule.what} (${inputs[0]}${more}) when any command starts`);
    }
    for (const imported of meta?.imports ?? []) {
      if (imported.external && CLI_EXTERNAL_PACKAGES[imported.path] && imported.kind === "import-statement") {
        problems.push(`${output}: loads ${imported.path} when any command starts`);
      }
    }
  }
  return [...new Set(problems)];
}

/**
 * Bundles the `coffer` command so that it runs on Node.js alone: no TypeScript compiled at
 * run time (which needs a writable disk), no node_modules but better-sqlite3, and each
 * command loading only its own code: the SQLite and PostgreSQL drivers, the AWS SDK and
 * the dev server are chunks that only the commands using them import.
 */
export async function buildCli(options: { root: string; outRoot: string }): Promise<BundleReport> {
  const outdir = join(options.outRoot, "cli");
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...BUNDLE_OPTIONS,
    // The command also runs on Node.js 20 (see README.md), and nothing here needs 22's syntax.
    target: "node20",
    absWorkingDir: options.root,
    entryPoints: { [CLI_ENTRY.name]: CLI_ENTRY.entry },
    outdir,
    ...SPLIT_INTO_CHUNKS,
    external: Object.keys(CLI_EXTERNAL_PACKAGES),
  });
  const entryOutput = Object.entries(result.metafile.outputs).find(
    ([, meta]) => meta.entryPoint === CLI_ENTRY.entry,
  )?.[0];
  const problems = entryOutput
    ? cliBundleProblems(result.metafile, entryOutput)
    : [`${CLI_ENTRY.entry}: no output for the entry point`];
  if (problems.length > 0) {
    rmSync(outdir, { recursive: true, force: true });
    throw new BundleError(`the coffer command's bundle is not shippable:\n  ${problems.join("\n  ")}`);
  }
  writeFileSync(join(options.outRoot, "cli.meta.json"), JSON.stringify(result.metafile));
  writeFileSync(join(outdir, NOTICES_FILE), thirdPartyNotices(result.metafile, options.root));
  return reportOf(
    {
      name: CLI_ENTRY.name,
      handler: `node ${join(relative(options.root, outdir), `${CLI_ENTRY.name}.mjs`)}`,
      outdir,
    },
    result.metafile,
    options,
  );
}

/** The largest files of a bundle are listed; the rest are summed. */
const LISTED_FILES = 12;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatReport(report: BundleReport): string {
  const chunks = report.files.length - 1;
  const lines = [
    `${report.name}: ${kib(report.bytes)} (gzip ${kib(report.gzipBytes)}) in ${report.files.length} files, entry + ${chunks} chunk${chunks === 1 ? "" : "s"}, handler ${report.handler}`,
    ...report.files
      .slice(0, LISTED_FILES)
      .map(
        (file) => `  ${file.path.padEnd(40)} ${kib(file.bytes).padStart(12)}  gzip ${kib(file.gzipBytes)}`,
      ),
  ];
  const unlisted = report.files.slice(LISTED_FILES);
  if (unlisted.length > 0) {
    lines.push(
      `  ... and ${unlisted.length} smaller files, ${kib(unlisted.reduce((sum, f) => sum + f.bytes, 0))}`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const outRoot = join(root, "build");
  const reports = [...(await buildFunctions({ root, outRoot })), await buildCli({ root, outRoot })];
  process.stdout.write(`${reports.map(formatReport).join("\n")}\n`);
  // After the functions: their build clears build/api/, where the UI build writes a copy.
  process.stdout.write(`${await buildUi({ root, outRoot })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
