/**
 * The root key file of `coffer dev`: 32 random bytes, readable by its owner only. Node-only
 * (file system), so the edge that runs locally loads it and hands the bytes to
 * createLocalKeyProvider.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CofferError } from "../errors.ts";

const KEY_BYTES = 32;

/**
 * Returns the key in `file`, creating it first if it does not exist. Two processes racing
 * to create it end up with the same key: each writes a private temporary file and
 * publishes it with link(), which fails if the name is taken, so the file appears whole
 * and exactly once.
 */
export async function loadOrCreateRootKey(file: string): Promise<Uint8Array> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, randomBytes(KEY_BYTES), { mode: 0o600, flag: "wx", flush: true });
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temporary).catch(() => {});
  }
  return readRootKey(file);
}

async function readRootKey(file: string): Promise<Uint8Array> {
  // Check and read through one descriptor so the file cannot be swapped in between.
  const handle = await open(file, "r");
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refuse(`${file} is not a regular file`);
    // Windows has no POSIX mode bits to check; its ACLs are the operator's business.
    if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
      throw refuse(
        `root key file ${file} is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); ` +
          `run \`chmod 600 ${file}\``,
      );
    }
    if (info.size !== KEY_BYTES) {
      throw refuse(
        `root key file ${file} holds ${info.size} bytes, expected ${KEY_BYTES}; restore it from a backup, ` +
          "or delete it to start over (everything encrypted under the old key becomes unreadable)",
      );
    }
    const key = new Uint8Array(KEY_BYTES);
    const { bytesRead } = await handle.read(key, 0, KEY_BYTES, 0);
    if (bytesRead !== KEY_BYTES) throw refuse(`root key file ${file} changed while being read`);
    return key;
  } finally {
    await handle.close();
  }
}

function refuse(message: string): CofferError {
  return new CofferError("ERR_INTERNAL", message);
}
