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
 * `npm run build` runs it; so does `sst deploy` (stacks/function-bundles.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { buildUi } from "./build-ui.ts";

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

/** Why each input or import of the metafile must not be in a Lambda bundle; empty when none. */
export function bundleProblems(metafile: Metafile): string[] {
  const problems: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    const path = input.replaceAll("\\", "/");
    const pkg = NODE_ONLY_PACKAGES.find((name) => path.includes(`node_modules/${name}/`));
    if (pkg) problems.push(`${path}: the Node-only package ${pkg}`);
    else if (/\.node\.ts$/.test(path)) problems.push(`${path}: a Node-only adapter (*.node.ts)`);
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
    splitting: true,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    metafile: true,
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

  const files = Object.keys(result.metafile.outputs)
    .map((output) => {
      const absolute = resolve(options.root, output);
      const content = readFileSync(absolute);
      return { path: relative(outdir, absolute), bytes: content.length, gzipBytes: gzipSync(content).length };
    })
    .sort((a, b) => b.bytes - a.bytes);
  return {
    name: fn.name,
    outdir,
    handler: `${fn.name}.${fn.handlerExport}`,
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

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function formatReport(report: BundleReport): string {
  const chunks = report.files.length - 1;
  const lines = [
    `${report.name}: ${kib(report.bytes)} (gzip ${kib(report.gzipBytes)}) in ${report.files.length} files, entry + ${chunks} chunk${chunks === 1 ? "" : "s"}, handler ${report.handler}`,
    ...report.files.map(
      (file) => `  ${file.path.padEnd(40)} ${kib(file.bytes).padStart(12)}  gzip ${kib(file.gzipBytes)}`,
    ),
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const reports = await buildFunctions({ root, outRoot: join(root, "build") });
  process.stdout.write(`${reports.map(formatReport).join("\n")}\n`);
  process.stdout.write(`${await buildUi({ root, outRoot: join(root, "build") })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
