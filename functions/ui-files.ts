/**
 * The web UI's files in a directory the UI build wrote (scripts/build-ui.ts): the API
 * function serves those beside its bundle, an installed `coffer dev` those in build/ui/.
 * Read on the first request for /ui/, so a cold start that serves only the API reads none.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { memoizeUiAssets, readUiAssets, type UiAssetSource } from "../shared/ui/ui-assets.ts";

export function uiFilesIn(dir: string): UiAssetSource {
  return memoizeUiAssets(() =>
    readUiAssets(async (name) => {
      try {
        return new Uint8Array(await readFile(join(dir, name)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    }),
  );
}
