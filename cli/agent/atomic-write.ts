/**
 * Writes a file so that a reader sees either the old content or the new, never a part:
 * the content goes to a temporary file beside the target (same directory, so the same
 * filesystem), created with mode 0600 (or the mode asked for), flushed to disk, then
 * renamed over the target.
 * The directory is synced too, so the rename itself survives a crash.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const SECRET_FILE_MODE = 0o600;

export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  mode: number = SECRET_FILE_MODE,
): Promise<void> {
  const directory = dirname(file);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = join(directory, `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  // "wx": never follow or reuse something already at the temporary name.
  const handle = await open(temporary, "wx", SECRET_FILE_MODE);
  try {
    try {
      await handle.writeFile(content);
      // The umask may have taken bits away; the mode is exactly the one asked for whatever it was.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  const directoryHandle = await open(directory, "r");
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
}

/**
 * Whether `file` already holds exactly `content` with its mode (0600 by default), so a render that changed
 * nothing neither rewrites the file nor signals the application.
 */
export async function fileHolds(
  file: string,
  content: string,
  mode: number = SECRET_FILE_MODE,
): Promise<boolean> {
  try {
    const [current, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return current === content && (info.mode & 0o777) === mode;
  } catch {
    return false;
  }
}
