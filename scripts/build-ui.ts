/**
 * Bundles the web UI (ui/) into static files: index.html, and a script, a style sheet and
 * an icon named by their content hash, each with a gzip copy, plus manifest.json listing
 * them (shared/ui/ui-assets.ts reads it). Nothing is fetched at run time: Preact and every
 * other dependency are inside the script.
 *
 * `buildUi` writes build/ui/ (what `coffer dev` serves from an installed package) and a
 * copy in build/api/ui/, beside the API function's bundle, since a function's bundle
 * directory is all Lambda gets. scripts/build.ts calls it after the function bundles.
 * In a checkout, `coffer dev` calls `bundleUi` itself on the first request for /ui/, so
 * the UI it serves is always the sources' (cli/ui-files.ts).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { UI_MANIFEST, type UiManifest } from "../shared/ui/ui-assets.ts";

export const UI_SOURCE_DIR = "ui";
/** The limit the UI's first load must stay under, compressed; the build fails past it. */
export const FIRST_LOAD_LIMIT_BYTES = 150 * 1024;

export interface UiFile {
  name: string;
  contentType: string;
  body: Uint8Array;
  gzip: Uint8Array;
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

function uiFile(name: string, body: Uint8Array, immutable: boolean): UiFile {
  const contentType = CONTENT_TYPES[extname(name)];
  if (!contentType) throw new Error(`the UI build made ${name}, of a type it does not serve`);
  return { name, contentType, body, gzip: gzipSync(body, { level: 9 }), immutable };
}

const hashOf = (body: Uint8Array) => createHash("sha256").update(body).digest("hex").slice(0, 12);

/** The UI's files, in memory. */
export async function bundleUi(root: string): Promise<UiFile[]> {
  const source = join(root, UI_SOURCE_DIR);
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(source, "main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome115", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "[name]-[hash]",
    outdir: "ui-out",
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  const files: UiFile[] = result.outputFiles.map((output) =>
    uiFile(output.path.split("/").at(-1) as string, output.contents, true),
  );
  const icon = readFileSync(join(source, "icon.svg"));
  files.push(uiFile(`icon-${hashOf(icon)}.svg`, icon, true));

  const named = (extension: string) => {
    const file = files.find((candidate) => candidate.name.endsWith(extension));
    if (!file) throw new Error(`the UI build made no ${extension} file`);
    return file.name;
  };
  const index = readFileSync(join(source, "index.html"), "utf8")
    .replace("%SCRIPT%", named(".js"))
    .replace("%STYLE%", named(".css"))
    .replace("%ICON%", named(".svg"));
  files.push(uiFile("index.html", new TextEncoder().encode(index), false));
  return files;
}

/** What a browser downloads to show the first screen: every file (the UI is one script), compressed. */
export function firstLoadBytes(files: readonly UiFile[]): number {
  return files.reduce((sum, file) => sum + file.gzip.length, 0);
}

export function writeUiFiles(files: readonly UiFile[], dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const manifest: UiManifest = { files: [] };
  for (const file of files) {
    writeFileSync(join(dir, file.name), file.body);
    writeFileSync(join(dir, `${file.name}.gz`), file.gzip);
    manifest.files.push({
      name: file.name,
      contentType: file.contentType,
      immutable: file.immutable,
      gzip: `${file.name}.gz`,
    });
  }
  writeFileSync(join(dir, UI_MANIFEST), JSON.stringify(manifest, null, 2));
}

export async function buildUi(options: { root: string; outRoot: string }): Promise<string> {
  const files = await bundleUi(options.root);
  const firstLoad = firstLoadBytes(files);
  if (firstLoad > FIRST_LOAD_LIMIT_BYTES) {
    throw new Error(`the UI's first load is ${firstLoad} bytes compressed, over ${FIRST_LOAD_LIMIT_BYTES}`);
  }
  writeUiFiles(files, join(options.outRoot, "ui"));
  writeUiFiles(files, join(options.outRoot, "api", "ui"));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return [
    `ui: first load ${kib(firstLoad)} gzip (limit ${kib(FIRST_LOAD_LIMIT_BYTES)})`,
    ...files.map(
      (file) =>
        `  ${file.name.padEnd(40)} ${kib(file.body.length).padStart(12)}  gzip ${kib(file.gzip.length)}`,
    ),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  buildUi({ root, outRoot: join(root, "build") }).then(
    (report) => process.stdout.write(`${report}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
