/**
 * The web UI's files, as the UI build (scripts/build-ui.ts) makes them: an index page and
 * content-hashed scripts and styles, each with a gzip copy, listed in a manifest. The
 * edges read them (from the build directory, or by bundling the sources in a checkout)
 * and the app serves them from memory under /ui/.
 */

export interface UiAsset {
  contentType: string;
  body: Uint8Array;
  /** The same bytes gzip-compressed, served to browsers that accept it. */
  gzip?: Uint8Array;
  /** Named by its content hash: a browser may keep it forever. */
  immutable: boolean;
}

/** File name (no directory) to file. */
export type UiAssets = ReadonlyMap<string, UiAsset>;

/** Loads the files once, on the first request for the UI; undefined when there is no UI build. */
export type UiAssetSource = () => Promise<UiAssets | undefined>;

/** The manifest the build writes beside the files. */
export const UI_MANIFEST = "manifest.json";

export interface UiManifestEntry {
  name: string;
  contentType: string;
  immutable: boolean;
  /** The gzip copy's file name, when there is one. */
  gzip?: string;
}

export interface UiManifest {
  files: UiManifestEntry[];
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The files a manifest lists, read through `read` (one file of the build directory by
 * name; undefined when absent). Undefined when there is no manifest. A manifest naming
 * anything but a plain file name is refused: the reader must never leave its directory.
 */
export async function readUiAssets(
  read: (name: string) => Promise<Uint8Array | undefined>,
): Promise<UiAssets | undefined> {
  const manifestBytes = await read(UI_MANIFEST);
  if (!manifestBytes) return undefined;
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as UiManifest;
  const assets = new Map<string, UiAsset>();
  for (const entry of manifest.files) {
    for (const name of [entry.name, entry.gzip]) {
      if (name !== undefined && !FILE_NAME.test(name)) throw new Error(`UI manifest: bad file name ${name}`);
    }
    const body = await read(entry.name);
    if (!body) throw new Error(`UI manifest: ${entry.name} is missing`);
    const gzip = entry.gzip ? await read(entry.gzip) : undefined;
    assets.set(entry.name, { contentType: entry.contentType, body, gzip, immutable: entry.immutable });
  }
  return assets;
}

/** Loads once; a failed load is retried on the next request rather than remembered. */
export function memoizeUiAssets(load: UiAssetSource): UiAssetSource {
  let loading: Promise<UiAssets | undefined> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
