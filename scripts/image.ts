/**
 * `npm run image`: the container image of the `coffer` command, an OCI archive at
 * build/image/coffer-<version>.oci.tar, built without a container daemon. Two layers: a
 * base of Debian packages (scripts/image/base-root.ts) and the bundled command
 * (build/cli/, rebuilt first) with its licenses. It runs as a non-root user on a read-only
 * root filesystem; scripts/image/spec.ts is what it promises.
 *
 * Options: `--node <path>` takes another node binary (default: the one running this
 * script; it must come from a Debian package); `SOURCE_DATE_EPOCH` sets the time written
 * into the image (default: the last commit's).
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildCli, CLI_ENTRY } from "./build.ts";
import { type DebianPackage, normalizeDirectories, stageBaseRoot } from "./image/base-root.ts";
import { type Layer, reproducibleTar, writeImageLayout, writeLayer } from "./image/oci.ts";
import {
  IMAGE_APP_DIR,
  IMAGE_CMD,
  IMAGE_ENTRYPOINT,
  IMAGE_PATH,
  IMAGE_PROGRAMS,
  IMAGE_USER,
} from "./image/spec.ts";

export interface ImageReport {
  archive: string;
  archiveBytes: number;
  tag: string;
  manifestDigest: string;
  layers: Layer[];
  nodeVersion: string;
  packages: DebianPackage[];
}

const ARCHITECTURES: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/** The time written into the image: SOURCE_DATE_EPOCH, else the last commit's, else 0. */
export function sourceDateEpoch(root: string, env: Record<string, string | undefined> = process.env): number {
  if (env.SOURCE_DATE_EPOCH) return Number(env.SOURCE_DATE_EPOCH);
  try {
    return (
      Number(execFileSync("git", ["log", "-1", "--format=%ct"], { cwd: root, encoding: "utf8" }).trim()) || 0
    );
  } catch {
    return 0;
  }
}

function setModes(dir: string, mode: number): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) setModes(path, mode);
    else chmodSync(path, mode);
  }
}

/** The bundle under IMAGE_APP_DIR, its entry runnable by the kernel, and `coffer` on the PATH. */
function stageApp(staged: string, cliDir: string, root: string): void {
  const app = join(staged, IMAGE_APP_DIR);
  mkdirSync(dirname(app), { recursive: true });
  cpSync(cliDir, app, { recursive: true });
  cpSync(join(root, "LICENSE"), join(app, "LICENSE"));
  setModes(app, 0o644);
  // No shell in the image: the kernel starts node from the entry's first line.
  const entry = join(app, `${CLI_ENTRY.name}.mjs`);
  writeFileSync(entry, `#!${IMAGE_PROGRAMS.node}\n${readFileSync(entry, "utf8")}`);
  chmodSync(entry, 0o755);
  mkdirSync(join(staged, dirname(IMAGE_PROGRAMS.coffer)), { recursive: true });
  symlinkSync(join(IMAGE_APP_DIR, `${CLI_ENTRY.name}.mjs`), join(staged, IMAGE_PROGRAMS.coffer));
  normalizeDirectories(staged);
}

export async function buildImage(options: {
  root: string;
  /** The CLI bundle, as buildCli made it. */
  cliDir: string;
  outDir: string;
  node: string;
  epoch: number;
}): Promise<ImageReport> {
  const { version } = JSON.parse(readFileSync(join(options.root, "package.json"), "utf8")) as {
    version: string;
  };
  const architecture = ARCHITECTURES[process.arch];
  if (!architecture) throw new Error(`no image for the architecture ${process.arch}`);
  const work = mkdtempSync(join(tmpdir(), "coffer-image-"));
  try {
    const base = stageBaseRoot(join(work, "base"), { node: options.node });
    stageApp(join(work, "app"), options.cliDir, options.root);
    const layout = join(work, "layout");
    const packages = base.packages.map((pkg) => `${pkg.name} ${pkg.version}`).join(", ");
    const layers = [
      await writeLayer(layout, join(work, "base"), {
        epoch: options.epoch,
        createdBy: `node ${base.nodeVersion} and its libraries, CA certificates and user ${IMAGE_USER.name} (${IMAGE_USER.uid}), from Debian packages: ${packages}`,
      }),
      await writeLayer(layout, join(work, "app"), {
        epoch: options.epoch,
        createdBy: `the coffer command ${version}, bundled (npm run build)`,
      }),
    ];
    const { manifest } = writeImageLayout(
      layout,
      layers,
      {
        architecture,
        user: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
        env: [`PATH=${IMAGE_PATH}`],
        entrypoint: IMAGE_ENTRYPOINT,
        cmd: IMAGE_CMD,
        labels: {
          "org.opencontainers.image.title": "coffer",
          "org.opencontainers.image.description":
            "The coffer command and agent: a Vault-compatible secrets broker's client",
          "org.opencontainers.image.version": version,
          "org.opencontainers.image.licenses": "Apache-2.0",
        },
      },
      { epoch: options.epoch, tag: version },
    );
    mkdirSync(options.outDir, { recursive: true });
    const archive = join(options.outDir, `coffer-${version}.oci.tar`);
    reproducibleTar(layout, archive, options.epoch);
    return {
      archive,
      archiveBytes: statSync(archive).size,
      tag: version,
      manifestDigest: manifest.digest,
      layers,
      nodeVersion: base.nodeVersion,
      packages: base.packages,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function formatImageReport(report: ImageReport): string {
  const unpacked = report.layers.reduce((sum, layer) => sum + layer.unpackedBytes, 0);
  return [
    `${report.archive}: ${mib(report.archiveBytes)}, ${mib(unpacked)} unpacked, tag ${report.tag}, manifest ${report.manifestDigest}`,
    ...report.layers.map(
      (layer) =>
        `  ${layer.digest.slice(0, 19)}  ${mib(layer.size).padStart(10)} (${mib(layer.unpackedBytes)} unpacked)  ${layer.createdBy}`,
    ),
  ].join("\n");
}

async function main(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const at = process.argv.indexOf("--node");
  const node = at > 0 ? (process.argv[at + 1] as string) : process.execPath;
  const outRoot = join(root, "build");
  const cli = await buildCli({ root, outRoot });
  const report = await buildImage({
    root,
    cliDir: cli.outdir,
    outDir: join(outRoot, "image"),
    node,
    epoch: sourceDateEpoch(root),
  });
  process.stdout.write(`${formatImageReport(report)}\n`);
  if (!report.nodeVersion.startsWith("v22.")) {
    process.stdout.write(
      `note: the image holds node ${report.nodeVersion}; the supported runtime is Node.js 22\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
