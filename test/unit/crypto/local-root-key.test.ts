import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateRootKey } from "../../../shared/crypto/local-root-key.node.ts";
import { CofferError } from "../../../shared/errors.ts";

const posix = process.platform !== "win32";
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "coffer-root-key-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loadOrCreateRootKey", () => {
  it("creates a 32-byte key, mode 0600, in a new directory of mode 0700", async () => {
    const file = join(dir, "nested", "deeper", "root.key");
    const key = await loadOrCreateRootKey(file);
    expect(key).toBeInstanceOf(Uint8Array);
    expect(key).toHaveLength(32);
    expect(Array.from(key).some((byte) => byte !== 0)).toBe(true);
    if (posix) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, "nested", "deeper"))).mode & 0o777).toBe(0o700);
    }
    expect(Buffer.from(await readFile(file)).equals(Buffer.from(key))).toBe(true);
  });

  it("returns the same key on the next start", async () => {
    const file = join(dir, "root.key");
    const first = await loadOrCreateRootKey(file);
    const second = await loadOrCreateRootKey(file);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  it("gives everyone racing to create it the same key and leaves no temporary files", async () => {
    const file = join(dir, "root.key");
    const keys = await Promise.all(Array.from({ length: 16 }, () => loadOrCreateRootKey(file)));
    const distinct = new Set(keys.map((key) => Buffer.from(key).toString("hex")));
    expect(distinct.size).toBe(1);
    expect(await readdir(dir)).toEqual(["root.key"]);
  });

  it.skipIf(!posix).each([0o644, 0o640, 0o604, 0o660])("refuses a key file of mode %o", async (mode) => {
    const file = join(dir, "root.key");
    await loadOrCreateRootKey(file);
    await chmod(file, mode);
    const error = await loadOrCreateRootKey(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CofferError);
    expect((error as Error).message).toContain(`chmod 600 ${file}`);
  });

  it.each([0, 16, 31, 33])("refuses a key file of %i bytes", async (size) => {
    const file = join(dir, "root.key");
    await writeFile(file, new Uint8Array(size), { mode: 0o600 });
    const error = await loadOrCreateRootKey(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CofferError);
    expect((error as Error).message).toMatch(new RegExp(`holds ${size} bytes, expected 32`));
    // Never "repaired" by overwriting: that would destroy whatever the old key protected.
    expect((await readFile(file)).length).toBe(size);
  });

  it("refuses a directory where the key file should be", async () => {
    const file = join(dir, "root.key");
    await mkdir(file, { mode: 0o700 });
    await expect(loadOrCreateRootKey(file)).rejects.toThrow(/not a regular file/);
  });
});
