/**
 * Where `coffer login` keeps the token for later commands: ~/.coffer-token, mode 0600,
 * like the vault CLI's ~/.vault-token. COFFER_TOKEN or VAULT_TOKEN, when set, take
 * precedence over it.
 */
import { readFile, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../agent/atomic-write.ts";

export function tokenFilePath(): string {
  return join(homedir(), ".coffer-token");
}

export async function readStoredToken(): Promise<string | undefined> {
  try {
    const token = (await readFile(tokenFilePath(), "utf8")).trim();
    return token === "" ? undefined : token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export async function storeToken(token: string): Promise<void> {
  await writeFileAtomic(tokenFilePath(), `${token}\n`);
}

export async function forgetStoredToken(): Promise<void> {
  await unlink(tokenFilePath()).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}
