/**
 * A file that receives a secret once (a root token, an export archive):
 * created before the secret exists, exclusively (an existing file is never overwritten or
 * followed through a link) and with mode 0600 whatever the umask, so the secret is never
 * readable by anyone else, and a path that cannot be written fails before anything is
 * done instead of after a secret nobody will see again.
 */
import { closeSync, fchmodSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { LocalError } from "./exit-codes.ts";

export const SECRET_FILE_MODE = 0o600;

export interface SecretOutputFile {
  path: string;
  write(content: string | Uint8Array): void;
  /** Removes the file: the secret it was for was never made. */
  discard(): void;
}

export function createSecretOutputFile(path: string): SecretOutputFile {
  let fd: number;
  try {
    fd = openSync(path, "wx", SECRET_FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LocalError(
      code === "EEXIST"
        ? `${path} already exists: give a new file, it is never overwritten`
        : `cannot create ${path}: ${(error as Error).message}`,
    );
  }
  fchmodSync(fd, SECRET_FILE_MODE);
  return {
    path,
    write(content) {
      writeFileSync(fd, content);
      closeSync(fd);
    },
    discard() {
      closeSync(fd);
      unlinkSync(path);
    },
  };
}
