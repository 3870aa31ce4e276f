/**
 * docs/architecture.md shows a whole engine for a newcomer to copy. This test takes that
 * block as written, places it where an engine lives (its imports resolve as in an engine's
 * folder), mounts it and calls it over the API: the example cannot drift from the contract.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineFactory } from "../../../shared/engines/engine.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const root = new URL("../../../", import.meta.url).pathname;
// Beside the real engines, so the block's "../engine.ts" imports resolve unchanged; the
// name starts with a dot so no source scan (the layering test) ever counts it.
const folder = join(root, "shared/engines", `.example-${process.pid}`);

async function exampleBlock(): Promise<string> {
  const doc = await readFile(join(root, "docs/architecture.md"), "utf8");
  const block = /<!-- example-engine -->\n```ts\n([\s\S]*?)\n```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/architecture.md has no example engine block");
  return block;
}

describe("the example engine in docs/architecture.md", () => {
  let deployment: Deployment;

  beforeAll(async () => {
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "index.ts"), await exampleBlock());
    const module = (await import(join(folder, "index.ts"))) as { createNotesEngine: EngineFactory };
    deployment = await openDeployment({
      engines: { notes: { load: async () => module.createNotesEngine } },
    });
    const enabled = await deployment.call("POST", "sys/mounts/notes", { type: "notes" });
    expect(enabled.status).toBe(204);
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
    await deployment?.close();
  });

  it("writes a note sealed, reads it back, and names a field it does not declare", async () => {
    const written = await deployment.call("PUT", "notes/notes/welcome", { text: "hello", colour: "blue" });
    // As in Vault, an answer without a body stays 204: the warning rides only on a body.
    expect(written.status).toBe(204);
    const read = await deployment.call("GET", "notes/notes/welcome?colour=blue");
    expect(read.status).toBe(200);
    expect(read.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [colour]"]);
    expect(read.body.data).toEqual({ text: "hello" });
    const mounts = await deployment.call("GET", "sys/mounts");
    const { items } = await deployment.store.query({ pk: `notes/${mounts.body.data["notes/"].uuid}` });
    expect(items.map((item) => item.sk)).toEqual(["welcome"]);
    expect(new TextDecoder().decode(items[0]?.sealed as Uint8Array)).not.toContain("hello");
  });

  it("answers 404 for a note never written and 400 for a field of the wrong type", async () => {
    expect((await deployment.call("GET", "notes/notes/missing")).status).toBe(404);
    const wrong = await deployment.call("PUT", "notes/notes/welcome", { text: 42 });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual(['invalid value for "text": expected a string']);
  });

  it("purges its notes when the mount is disabled", async () => {
    await deployment.call("PUT", "notes/notes/temporary", { text: "soon gone" });
    expect((await deployment.call("DELETE", "sys/mounts/notes")).status).toBe(204);
    await deployment.call("POST", "sys/mounts/notes", { type: "notes" });
    expect((await deployment.call("GET", "notes/notes/temporary")).status).toBe(404);
  });
});
