/**
 * The broker on embedded defaults: SQLite for storage and a local root key file, both in
 * one data directory, or both in memory. Used by `coffer dev` and by operator commands
 * pointed at a local store.
 */
import { mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { AuditWriter } from "../shared/audit/audit-log.ts";
import { type Broker, createBroker } from "../shared/broker.ts";
import { createLocalKeyProvider } from "../shared/crypto/local.ts";
import { loadOrCreateRootKey } from "../shared/crypto/local-root-key.node.ts";
import { nodeSymmetricCrypto } from "../shared/crypto/symmetric.node.ts";
import { ENGINES } from "../shared/registry.ts";
import { openSqliteStore } from "../shared/store/sqlite.node.ts";

export interface LocalBrokerOptions {
  /** Where coffer.db, root.key and audit.log live; ignored when inMemory. */
  dataDir: string;
  inMemory?: boolean;
  /** Audit log file; defaults to <dataDir>/audit.log, none in memory. */
  auditLog?: string;
  /** Hash numbers and booleans in audit records too (Vault leaves them in clear). */
  auditHashNonStrings?: boolean;
}

/** Appends records to a file kept open: opening it per record would cost more than the request. */
export function fileAuditWriter(file: string): AuditWriter {
  const fd = openSync(file, "a", 0o600);
  return (line) => {
    writeSync(fd, `${line}\n`);
  };
}

export async function createLocalBroker(options: LocalBrokerOptions): Promise<Broker> {
  let rootKey: Uint8Array;
  let databasePath: string;
  let auditLog = options.auditLog;
  if (options.inMemory) {
    rootKey = crypto.getRandomValues(new Uint8Array(32));
    databasePath = ":memory:";
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    rootKey = await loadOrCreateRootKey(join(options.dataDir, "root.key"));
    databasePath = join(options.dataDir, "coffer.db");
    auditLog ??= join(options.dataDir, "audit.log");
  }
  return createBroker({
    store: openSqliteStore({ path: databasePath }),
    storage: "sqlite",
    keyProvider: createLocalKeyProvider(rootKey, { symmetric: nodeSymmetricCrypto }),
    engines: ENGINES,
    auditWriters: auditLog ? [fileAuditWriter(auditLog)] : [],
    auditHashNonStrings: options.auditHashNonStrings,
  });
}
