/**
 * The container image as `npm run image` builds it. The OCI archive is unpacked and
 * checked (layout, every digest, the config, each file with its owner and mode); then the
 * image runs: its root filesystem bound read-only under chroot, as the image's user,
 * with only the mounts and commands the manifests in deploy/kubernetes/ give it:
 * `coffer --help`, the Job's `coffer agent --once` and the Deployment's sidecar with its
 * startup probe, against a `coffer dev` on loopback.
 *
 * Running it needs root and a mount namespace (unshare): without them those tests are
 * skipped with a loud line, and fail under CI=true.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { buildCli } from "../../scripts/build.ts";
import { sharedLibraries } from "../../scripts/image/base-root.ts";
import { MEDIA_TYPES } from "../../scripts/image/oci.ts";
import { IMAGE_ENTRYPOINT, IMAGE_PATH, IMAGE_PROGRAMS, IMAGE_USER } from "../../scripts/image/spec.ts";
import { buildImage, type ImageReport } from "../../scripts/image.ts";
import { NOTICES_FILE } from "../../scripts/third-party-notices.ts";
import { SHOP_SECRETS, useShopDevServer } from "../support/shop-dev-server.ts";
import { waitFor } from "../support/wait.ts";
import { ROOT } from "./platform.ts";

const work = mkdtempSync(join(tmpdir(), "coffer-image-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface ImageConfig {
  architecture: string;
  os: string;
  config: { User: string; Env: string[]; Entrypoint: string[]; Cmd: string[] };
  rootfs: { type: string; diff_ids: string[] };
}

const layout = join(work, "layout");
const rootfs = join(work, "rootfs");
const blob = (digest: string) =>
  readFileSync(join(layout, "blobs", "sha256", digest.replace(/^sha256:/, "")));
const sha256 = (content: Buffer) => `sha256:${createHash("sha256").update(content).digest("hex")}`;

let report: ImageReport;
let manifestDescriptor: Descriptor;
let manifest: { config: Descriptor; layers: Descriptor[] };
let config: ImageConfig;

beforeAll(async () => {
  const cli = await buildCli({ root: ROOT, outRoot: join(work, "build") });
  report = await buildImage({
    root: ROOT,
    cliDir: cli.outdir,
    outDir: join(work, "image"),
    node: process.execPath,
    epoch: 1_700_000_000,
  });
  mkdirSync(layout);
  execFileSync("tar", ["-xf", report.archive, "-C", layout]);
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Descriptor[] };
  manifestDescriptor = index.manifests[0] as Descriptor;
  manifest = JSON.parse(blob(manifestDescriptor.digest).toString("utf8"));
  config = JSON.parse(blob(manifest.config.digest).toString("utf8"));
  mkdirSync(rootfs);
  for (const layer of manifest.layers) {
    execFileSync("tar", ["-xzf", join(layout, "blobs", "sha256", layer.digest.slice(7)), "-C", rootfs]);
  }
}, 300_000);

/** Every path under `dir`, directories excepted, relative to it with a leading slash. */
function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = `${prefix}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(dir, path) : [path];
  });
}

describe("the libraries of the image's node", () => {
  it("are the files ldd resolves, the dynamic linker included, and a missing one stops the build", () => {
    const ldd = [
      "\tlinux-vdso.so.1 (0x00007ffd)",
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f5d)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5c)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f5e)",
    ].join("\n");
    expect(sharedLibraries(ldd)).toEqual([
      "/lib/x86_64-linux-gnu/libstdc++.so.6",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
    expect(() => sharedLibraries(`${ldd}\n\tlibicu.so.72 => not found`)).toThrow(
      "a library node needs is missing: libicu.so.72 => not found",
    );
  });
});

describe("the image archive", () => {
  it("is an OCI image layout whose every blob matches its digest and size", () => {
    expect(JSON.parse(readFileSync(join(layout, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    expect(manifestDescriptor).toMatchObject({
      mediaType: MEDIA_TYPES.manifest,
      digest: report.manifestDigest,
      annotations: { "org.opencontainers.image.ref.name": version },
    });
    expect(manifest.config.mediaType).toBe(MEDIA_TYPES.config);
    for (const descriptor of [manifestDescriptor, manifest.config, ...manifest.layers]) {
      const content = blob(descriptor.digest);
      expect({ digest: sha256(content), size: content.length }).toEqual({
        digest: descriptor.digest,
        size: descriptor.size,
      });
    }
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([MEDIA_TYPES.layer, MEDIA_TYPES.layer]);
    expect(config.rootfs).toEqual({
      type: "layers",
      diff_ids: manifest.layers.map((layer) => sha256(gunzipSync(blob(layer.digest)))),
    });
    expect(readdirSync(join(layout, "blobs", "sha256")).sort()).toEqual(
      [manifestDescriptor, manifest.config, ...manifest.layers].map((d) => d.digest.slice(7)).sort(),
    );
  });

  it("runs coffer as the non-root user, with the image's PATH", () => {
    expect(config.os).toBe("linux");
    expect(config.config).toMatchObject({
      User: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
      Entrypoint: IMAGE_ENTRYPOINT,
      Env: [`PATH=${IMAGE_PATH}`],
    });
    expect(readFileSync(join(rootfs, "etc/passwd"), "utf8")).toContain(
      `${IMAGE_USER.name}:x:${IMAGE_USER.uid}:${IMAGE_USER.gid}:`,
    );
    expect(readlinkSync(join(rootfs, IMAGE_PROGRAMS.coffer))).toBe("/opt/coffer/coffer.mjs");
    expect(readFileSync(join(rootfs, "opt/coffer/coffer.mjs"), "utf8").split("\n")[0]).toBe(
      `#!${IMAGE_PROGRAMS.node}`,
    );
  });

  it("holds node and its libraries, CA certificates, the bundle and licenses: no shell, no sources", () => {
    const files = filesUnder(rootfs);
    const allowed = [
      /^\/usr\/bin\/node$/,
      /^\/lib(64)?\/([a-z0-9_-]+\/)?[a-z0-9_+.-]+\.so(\.\d+)*$/,
      /^\/etc\/(passwd|group|nsswitch\.conf)$/,
      /^\/etc\/ssl\/certs\/ca-certificates\.crt$/,
      /^\/usr\/share\/doc\/[a-z0-9.+-]+\/copyright$/,
      /^\/usr\/local\/bin\/coffer$/,
      /^\/opt\/coffer\/(coffer\.mjs|chunks\/[\w-]+\.mjs|LICENSE|THIRD-PARTY-LICENSES\.txt)$/,
    ];
    expect(files.filter((file) => !allowed.some((pattern) => pattern.test(file)))).toEqual([]);
    for (const expected of ["/usr/bin/node", "/etc/ssl/certs/ca-certificates.crt", "/opt/coffer/LICENSE"]) {
      expect(files).toContain(expected);
    }
    expect(files).toContain(`/opt/coffer/${NOTICES_FILE}`);
    for (const { name } of report.packages) expect(files).toContain(`/usr/share/doc/${name}/copyright`);
    expect(report.packages.map((pkg) => pkg.name)).toEqual(
      expect.arrayContaining(["libc6", "ca-certificates"]),
    );
  });

  it("has every file owned by root, none setuid or setgid, none writable but by its owner", () => {
    for (const layer of manifest.layers) {
      const listing = execFileSync(
        "tar",
        ["-tvzf", join(layout, "blobs", "sha256", layer.digest.slice(7)), "--numeric-owner"],
        { encoding: "utf8" },
      );
      for (const line of listing.trim().split("\n")) {
        const [mode, owner] = line.split(/\s+/) as [string, string];
        expect(owner, line).toBe("0/0");
        if (mode.startsWith("l")) continue;
        expect(mode.slice(1), line).toMatch(/^[r-][w-][x-][r-]-[x-][r-]-[x-]$/);
      }
    }
  });
});

type Mount = { source: string; target: string; readOnly: boolean };

/** Whether this process can bind mounts in a namespace of its own and chroot. */
function canRunImage(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("unshare", ["--mount", "true"]).status === 0;
}

/**
 * The image's command under chroot: the root filesystem bound read-only, the mounts on
 * top, as the image's user, with the image's PATH and `env`. Mount points are made in the
 * unpacked copy first, as a container runtime makes them.
 */
function runInImage(
  argv: readonly string[],
  mounts: readonly Mount[],
  env: Record<string, string>,
): ChildProcess {
  for (const mount of mounts) mkdirSync(join(rootfs, mount.target), { recursive: true });
  const script = [
    "set -eu",
    'root="$1"; shift',
    'chroot_bin="$(command -v chroot)"',
    'mount --bind "$root" "$root"',
    ...mounts.flatMap((mount, i) => [
      `mount --bind "$MOUNT_SOURCE_${i}" "$root${mount.target}"`,
      ...(mount.readOnly ? [`mount -o remount,bind,ro "$root${mount.target}"`] : []),
    ]),
    'mount -o remount,bind,ro "$root"',
    `PATH=${IMAGE_PATH} exec "$chroot_bin" --userspec=${IMAGE_USER.uid}:${IMAGE_USER.gid} "$root" "$@"`,
  ].join("\n");
  const sources = Object.fromEntries(mounts.map((mount, i) => [`MOUNT_SOURCE_${i}`, mount.source]));
  return spawn(
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", script, "sh", rootfs, ...argv],
    {
      env: { PATH: process.env.PATH, ...sources, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

type Container = {
  name: string;
  command: string[];
  env?: { name: string; value: string }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: { exec: { command: string[] } };
};

function manifestsOf(file: string): Record<string, unknown>[] {
  const text = readFileSync(join(ROOT, "deploy/kubernetes", file), "utf8");
  return parseAllDocuments(text).map((document) => document.toJS() as Record<string, unknown>);
}

/** The coffer-agent container of a workload in deploy/kubernetes/. */
function agentOf(file: string): Container {
  const [workload] = manifestsOf(file) as [{ spec: { template: { spec: { initContainers: Container[] } } } }];
  return workload.spec.template.spec.initContainers.find((c) => c.name === "coffer-agent") as Container;
}

const runnable = canRunImage();
if (!runnable) {
  const reason = "running the image needs root and unshare --mount (a mount namespace) for chroot";
  if (process.env.CI === "true") {
    it("runs the image under chroot", () => {
      throw new Error(`${reason}: not available here`);
    });
  } else {
    console.warn(
      `\n!!! SKIPPED: the image runs under chroot: ${reason}, which this machine does not allow\n`,
    );
  }
}

describe.runIf(runnable)("the image, run under chroot on a read-only root", () => {
  const shop = useShopDevServer();
  /** The volumes the manifests mount, as directories of the host. */
  const volumes = {
    "coffer-token": join(work, "volume-token"),
    "coffer-agent": join(work, "volume-config"),
    secrets: join(work, "volume-secrets"),
  };

  beforeAll(async () => {
    for (const dir of Object.values(volumes)) mkdirSync(dir, { recursive: true });
    writeFileSync(join(volumes["coffer-token"], "token"), await shop.projectedToken());
    const [configMap] = manifestsOf("agent-config.yaml") as [{ data: Record<string, string> }];
    for (const [name, content] of Object.entries(configMap.data)) {
      writeFileSync(join(volumes["coffer-agent"], name), content);
    }
    // An emptyDir is writable by anyone in the pod.
    chmodSync(volumes.secrets, 0o777);
  }, 120_000);

  /** The container's command with its mounts and env, the address pointing at coffer dev. */
  const run = (container: Container, argv = container.command) =>
    runInImage(
      argv,
      container.volumeMounts.map((mount) => ({
        source: volumes[mount.name as keyof typeof volumes],
        target: mount.mountPath,
        readOnly: mount.readOnly === true,
      })),
      Object.fromEntries(
        (container.env ?? []).map(({ name, value }) => [name, name === "COFFER_ADDR" ? shop.url : value]),
      ),
    );

  it("prints the command's help, and cannot write to its root filesystem", async () => {
    const help = await finished(runInImage(["coffer", "--help"], [], {}));
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: coffer/);
    const write = await finished(
      runInImage(["node", "-e", "require('fs').writeFileSync('/opt/coffer/written', 'x')"], [], {}),
    );
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain("EROFS");
  });

  it("runs the Job's agent: renders the secrets into /secrets as the image's user, and exits 0", async () => {
    const agent = agentOf("job.yaml");
    const result = await finished(run(agent));
    expect(result.code, result.stderr).toBe(0);
    const password = join(volumes.secrets, "db-password");
    expect(readFileSync(password, "utf8")).toBe(SHOP_SECRETS.db.password);
    expect(statSync(password)).toMatchObject({ uid: IMAGE_USER.uid, gid: IMAGE_USER.gid });
    expect(statSync(password).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(volumes.secrets, "api.env"), "utf8")).toBe(`key="${SHOP_SECRETS.api.key}"\n`);
    expect(result.stderr).not.toContain(SHOP_SECRETS.db.password);
  });

  it("runs the Deployment's sidecar: its startup probe fails until the first render, then passes", async () => {
    const agent = agentOf("deployment-sidecar.yaml");
    const probe = agent.startupProbe?.exec.command as string[];
    rmSync(join(volumes.secrets, ".agent-status"), { force: true });
    const before = await finished(run(agent, probe));
    expect(before.code).not.toBe(0);

    const sidecar = run(agent);
    const exited = finished(sidecar);
    try {
      await waitFor("the startup probe to pass", async () =>
        (await finished(run(agent, probe))).code === 0 ? true : undefined,
      );
      expect(readFileSync(join(volumes.secrets, "app.conf"), "utf8")).toContain(
        `api_key = "${SHOP_SECRETS.api.key}"`,
      );
      expect(lstatSync(join(volumes.secrets, "api.json")).uid).toBe(IMAGE_USER.uid);
    } finally {
      sidecar.kill("SIGTERM");
    }
    const stopped = await exited;
    expect(stopped.code, stopped.stderr).toBe(0);
  });
});
