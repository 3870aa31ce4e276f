/**
 * The functions are deployed as the bundles scripts/build.ts makes, not as SST builds
 * them: the build refuses Node-only adapters, splits lazily loaded engines into chunks and
 * reports sizes, and what it measured is then exactly what ships. `sst deploy` runs it
 * first, so a deploy never picks up a stale build/ directory, unless COFFER_BUNDLES names
 * a directory of bundles built earlier (build once, deploy the same artifact to each stage).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export interface FunctionBundles {
  api: string;
  revoker: string;
  injector: string;
}

export function functionBundles(root: string, env: Record<string, string | undefined>): FunctionBundles {
  const prebuilt = env.COFFER_BUNDLES?.trim();
  if (!prebuilt) {
    // A separate Node process: the deploy program may run under another runtime, and
    // esbuild is not something to bundle into it.
    execFileSync("node", ["--import", "tsx", "scripts/build.ts"], { cwd: root, stdio: "inherit" });
  }
  // Relative to the project root, the way SST resolves a function's `bundle`.
  const dir = relative(root, resolve(root, prebuilt || "build")) || ".";
  const bundles = { api: join(dir, "api"), revoker: join(dir, "revoker"), injector: join(dir, "injector") };
  const missing = Object.entries(bundles)
    .map(([name, bundle]) => join(bundle, `${name}.mjs`))
    .filter((entry) => !existsSync(resolve(root, entry)));
  if (missing.length > 0) throw new Error(`function bundles missing: ${missing.join(", ")}`);
  return bundles;
}
