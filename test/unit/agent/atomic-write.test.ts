import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileHolds, writeFileAtomic } from "../../../cli/agent/atomic-write.ts";

describe("atomic secret file writes", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "coffer-atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes with mode 0600 whatever the umask, creating the directory, leaving no temporary file", async () => {
    const previous = process.umask(0o000);
    try {
      const file = join(dir, "nested", "db.json");
      await writeFileAtomic(file, "one");
      expect(await readFile(file, "utf8")).toBe("one");
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, "nested"))).mode & 0o777).toBe(0o700);
      expect(await readdir(join(dir, "nested"))).toEqual(["db.json"]);
    } finally {
      process.umask(previous);
    }
  });

  it("replaces an existing file, tightening its mode", async () => {
    const file = join(dir, "token");
    await writeFile(file, "old", { mode: 0o644 });
    await writeFileAtomic(file, "new");
    expect(await readFile(file, "utf8")).toBe("new");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("leaves the old content and no temporary file when the rename fails", async () => {
    const target = join(dir, "is-a-directory");
    await writeFileAtomic(join(target, "inside"), "x");
    await expect(writeFileAtomic(target, "content")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["is-a-directory"]);
  });

  it("tells whether a file already holds the content with mode 0600", async () => {
    const file = join(dir, "f");
    expect(await fileHolds(file, "a")).toBe(false);
    await writeFileAtomic(file, "a");
    expect(await fileHolds(file, "a")).toBe(true);
    expect(await fileHolds(file, "b")).toBe(false);
    await writeFile(file, "a", { mode: 0o644 });
    await (await import("node:fs/promises")).chmod(file, 0o644);
    expect(await fileHolds(file, "a")).toBe(false);
  });
});
