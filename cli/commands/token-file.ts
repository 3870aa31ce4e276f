/**
 * The files a token is kept in between commands: ~/.vault-token, which `vault login`
 * writes (the vault CLI's default token helper), and ~/.coffer-token, which `coffer login`
 * writes (mode 0600, atomically). COFFER_TOKEN or VAULT_TOKEN, when set, take precedence
 * over both, and ~/.vault-token over ~/.coffer-token: a team moving from Vault keeps
 * working with the token it has.
 */
import { readFile, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../agent/atomic-write.ts";

export function tokenFilePath(): string {
  return join(homedir(), ".coffer-token");
}

export function vaultTokenFilePath(): string {
  return join(homedir(), ".vault-token");
}

/** The token in a file, or undefined when there is no file or it is empty. */
export async function readTokenFile(path: string): Promise<string | undefined> {
  try {
    const token = (await readFile(path, "utf8")).trim();
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
