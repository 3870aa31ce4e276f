/**
 * An OCI image archive written without a container daemon: each layer a tar of a staged
 * directory (GNU tar, reproducible: sorted names, fixed time, owner root), compressed
 * with gzip, named by its sha256; then the config, the manifest and the index of an OCI
 * image layout, tarred as an `oci-archive` that skopeo, podman, crane and containerd read.
 */
import { execFileSync } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export const MEDIA_TYPES = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface Layer extends Descriptor {
  /** sha256 of the uncompressed tar: what the config's rootfs.diff_ids list. */
  diffId: string;
  unpackedBytes: number;
  /** For the config's history: what made the layer. */
  createdBy: string;
}

/**
 * tar with nothing of the building machine in it: names sorted, every time `epoch`,
 * owner and group 0, no access or change times.
 */
export function reproducibleTar(directory: string, output: string, epoch: number): void {
  const entries = readdirSync(directory).sort();
  execFileSync("tar", [
    "--create",
    `--file=${output}`,
    `--directory=${directory}`,
    "--sort=name",
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    `--mtime=@${epoch}`,
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--",
    ...entries,
  ]);
}

const digestOf = (hash: Hash) => `sha256:${hash.digest("hex")}`;

function writeBlob(blobs: string, mediaType: string, content: string): Descriptor {
  const digest = `sha256:${createHash("sha256").update(content).digest("hex")}`;
  writeFileSync(join(blobs, digest.slice(7)), content);
  return { mediaType, digest, size: Buffer.byteLength(content) };
}

/** The staged directory as a gzipped layer in the layout's blobs. */
export async function writeLayer(
  layout: string,
  staged: string,
  options: { epoch: number; createdBy: string },
): Promise<Layer> {
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const tar = `${staged}.tar`;
  reproducibleTar(staged, tar, options.epoch);
  const uncompressed = createHash("sha256");
  const compressed = createHash("sha256");
  const pending = join(blobs, "layer.partial");
  await pipeline(
    createReadStream(tar),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        uncompressed.update(chunk);
        yield chunk;
      }
    },
    createGzip(),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        compressed.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(pending),
  );
  const digest = digestOf(compressed);
  renameSync(pending, join(blobs, digest.slice(7)));
  return {
    mediaType: MEDIA_TYPES.layer,
    digest,
    size: statSync(join(blobs, digest.slice(7))).size,
    diffId: digestOf(uncompressed),
    unpackedBytes: statSync(tar).size,
    createdBy: options.createdBy,
  };
}

export interface ImageConfig {
  architecture: string;
  user: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  labels: Record<string, string>;
}

/**
 * The config, manifest and index of an image of `layers`, tagged `tag`; returns the
 * manifest's descriptor as the index lists it.
 */
export function writeImageLayout(
  layout: string,
  layers: readonly Layer[],
  config: ImageConfig,
  options: { epoch: number; tag: string },
): { manifest: Descriptor; config: Descriptor } {
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const created = new Date(options.epoch * 1000).toISOString().replace(/\.000Z$/, "Z");
  const platform = { architecture: config.architecture, os: "linux" };
  const configBlob = writeBlob(
    blobs,
    MEDIA_TYPES.config,
    JSON.stringify({
      created,
      ...platform,
      config: {
        User: config.user,
        Env: config.env,
        Entrypoint: config.entrypoint,
        Cmd: config.cmd,
        WorkingDir: "/",
        Labels: config.labels,
      },
      rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map((layer) => ({ created, created_by: layer.createdBy })),
    }),
  );
  const manifest: Descriptor = {
    ...writeBlob(
      blobs,
      MEDIA_TYPES.manifest,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.manifest,
        config: configBlob,
        layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
      }),
    ),
    platform,
    annotations: { "org.opencontainers.image.ref.name": options.tag },
  };
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [manifest] }),
  );
  return { manifest, config: configBlob };
}
