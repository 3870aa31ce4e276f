/**
 * The synchronous baseline: the irreducible work of a warm KV read with nothing
 * asynchronous in it — the same SQLite query of the metadata and newest version items,
 * their attributes decoded, one AES-256-GCM decryption with node:crypto, the plaintext
 * parsed. No HTTP, no framework, no promise: the floor a request on SQLite stands on.
 */
import Database from "better-sqlite3";
import { type BaselineEnvelope, decryptWithNodeCrypto } from "./baseline-envelope.ts";

export interface SyncKvRead {
  read(): unknown;
  close(): void;
}

export function openSyncKvRead(databasePath: string, pk: string, envelope: BaselineEnvelope): SyncKvRead {
  const db = new Database(databasePath, { fileMustExist: true });
  const decoder = new TextDecoder();
  const query = db.prepare<[string], { sk: string; attrs: string }>(
    "SELECT sk, attrs FROM items WHERE pk = ? ORDER BY sk DESC LIMIT 2",
  );
  return {
    read() {
      const [meta, newest] = query.all(pk);
      if (!meta || !newest) throw new Error("the bench secret is missing");
      const metadata = JSON.parse(meta.attrs) as { current_version: { N: string } };
      const version = JSON.parse(newest.attrs) as { envelope: { B: string } };
      // Decoded as the store adapter decodes it, though the baselines decrypt their own copy.
      Buffer.from(version.envelope.B, "base64");
      const plaintext = decryptWithNodeCrypto(envelope);
      return { version: Number(metadata.current_version.N), data: JSON.parse(decoder.decode(plaintext)) };
    },
    close() {
      db.close();
    },
  };
}
