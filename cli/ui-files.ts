/**
 * The web UI files `coffer dev` serves. A checkout has the UI's sources and esbuild, and
 * bundles them on the first request for /ui/, so what it serves is always the sources (as
 * the command itself runs from them); an installed package serves the files
 * `npm run build` put in build/ui/. The bundler is loaded by a path computed at run time,
 * so the command's own bundle never includes it.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { uiFilesIn } from "../functions/ui-files.ts";
import { memoizeUiAssets, type UiAssetSource } from "../shared/ui/ui-assets.ts";

/** The package's root: the nearest directory above this file holding package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the coffer package's root");
    dir = parent;
  }
  return dir;
}

export function devUiFiles(): UiAssetSource {
  return memoizeUiAssets(async () => {
    const root = packageRoot();
    const builder = join(root, "scripts", "build-ui.ts");
    if (!existsSync(join(root, "ui", "main.tsx")) || !existsSync(builder)) {
      return uiFilesIn(join(root, "build", "ui"))();
    }
    const { bundleUi } = (await import(
      pathToFileURL(builder).href
    )) as typeof import("../scripts/build-ui.ts");
    const files = await bundleUi(root);
    return new Map(files.map((file) => [file.name, file]));
  });
}
