/**
 * The UI build: what it writes where each edge reads it (build/ui/ for an installed
 * `coffer dev`, build/api/ui/ beside the API function's bundle), read back by the same
 * reader the edges use, and the first load under its limit.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { uiFilesIn } from "../../../functions/ui-files.ts";
import { buildUi, FIRST_LOAD_LIMIT_BYTES } from "../../../scripts/build-ui.ts";
import { uiRoutes } from "../../../shared/ui/ui-routes.ts";

const root = new URL("../../../", import.meta.url).pathname;
const outRoots: string[] = [];

afterAll(async () => {
  for (const dir of outRoots) await rm(dir, { recursive: true, force: true });
});

describe("the UI build", () => {
  it("writes the files for both edges, which serve the index naming the hashed script", async () => {
    const outRoot = await mkdtemp(join(tmpdir(), "coffer-ui-build-"));
    outRoots.push(outRoot);
    const report = await buildUi({ root, outRoot });
    const firstLoad = Number(/first load ([\d.]+) KiB/.exec(report)?.[1]) * 1024;
    expect(firstLoad).toBeGreaterThan(1024);
    expect(firstLoad).toBeLessThan(FIRST_LOAD_LIMIT_BYTES);

    for (const dir of [join(outRoot, "ui"), join(outRoot, "api", "ui")]) {
      const assets = await uiFilesIn(dir)();
      const index = assets?.get("index.html");
      const html = new TextDecoder().decode(index?.body);
      const script = /src="\.\/(main-[A-Z0-9]+\.js)"/.exec(html)?.[1] as string;
      expect(assets?.get(script)?.immutable).toBe(true);
      // The gzip copy is the same file.
      const onDisk = await readFile(join(dir, script));
      expect(gunzipSync(assets?.get(script)?.gzip as Uint8Array).equals(onDisk)).toBe(true);
      const served = await uiRoutes(uiFilesIn(dir)).request(`/ui/${script}`);
      expect(served.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    }
  });

  it("serves nothing from a directory without a build", async () => {
    expect(await uiFilesIn(join(tmpdir(), "no-such-ui-build"))()).toBeUndefined();
  });
});
