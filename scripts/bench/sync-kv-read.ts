/**
 * The synchronous baseline: the irreducible work of a warm KV read with nothing
 * asynchronous in it — the same SQLite query of the metadata and newest version items,
 * their attributes decoded, one AES-256-GCM decryption with node:crypto, the plaintext
 * parsed. No HTTP, no framework, no promise: the floor a request on SQLite stands on.
 */
import { createDecipheriv } from "node:crypto";
import Database from "better-sqlite3";
import type { BaselineEnvelope } from "./baseline-envelope.ts";

const TAG_BYTES = 16;

export interface SyncKvRead {
  read(): unknown;
  close(): void;
}

export function openSyncKvRead(databasePath: string, pk: string, envelope: BaselineEnvelope): SyncKvRead {
  const db = new Database(databasePath, { fileMustExist: true });
  const query = db.prepare<[string], { sk: string; attrs: string }>(
    "SELECT sk, attrs FROM items WHERE pk = ? ORDER BY sk DESC LIMIT 2",
  );
  const ciphertext = envelope.sealed.subarray(0, envelope.sealed.length - TAG_BYTES);
  const tag = envelope.sealed.subarray(envelope.sealed.length - TAG_BYTES);
  return {
    read() {
      const [meta, newest] = query.all(pk);
      if (!meta || !newest) throw new Error("the bench secret is missing");
      const metadata = JSON.parse(meta.attrs) as { current_version: { N: string } };
      const version = JSON.parse(newest.attrs) as { envelope: { B: string } };
      // Decoded as the store adapter decodes it, though the baselines decrypt their own copy.
      Buffer.from(version.envelope.B, "base64");
      const decipher = createDecipheriv("aes-256-gcm", envelope.rawKey, envelope.nonce);
      decipher.setAAD(envelope.additionalData);
      decipher.setAuthTag(tag);
      const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      return { version: Number(metadata.current_version.N), data: JSON.parse(plaintext.toString("utf8")) };
    },
    close() {
      db.close();
    },
  };
}
