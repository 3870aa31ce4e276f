/**
 * The broker: every dependency the core needs, built once per process by an edge
 * (functions/ or cli/) that picks the adapters. The core never reads configuration itself.
 */
import { type AuditLog, type AuditWriter, createAuditLog } from "./audit/audit-log.ts";
import { createTokenStore, type TokenStore } from "./auth/tokens/token-store.ts";
import { deriveHmacKey, type HmacKey, hmacHex } from "./crypto/hmac.ts";
import type { KeyProvider } from "./crypto/key-provider.ts";
import { type Keyring, openKeyring } from "./crypto/keyring.ts";
import type { Engine, EngineFactory } from "./engines/engine.ts";
import { CofferError } from "./errors.ts";
import { consoleLeaseLog, type LeaseLog } from "./leases/lease-log.ts";
import { createLeaseManager, type LeaseManager } from "./leases/lease-manager.ts";
import { engineLeaseTypes } from "./leases/lease-type.ts";
import { revokingLeasesWithToken } from "./leases/token-leases.ts";
import { createMountTable, type Mount, type MountTable } from "./mounts/mount-table.ts";
import type { PolicyStore } from "./policy/acl.ts";
import { createPolicyStore } from "./policy/policy-store.ts";
import { authenticateStore, logRejectedItem, type RejectedItem } from "./store/authenticated-store.ts";
import type { ItemStore } from "./store/item-store.ts";
import { VERSION } from "./version.ts";

/** Loads an engine's code on first use, so a cold start pays only for the engines it serves. */
export type EngineLoader = () => Promise<EngineFactory>;

export interface BrokerInfo {
  version: string;
  /** "dynamodb" or "sqlite". */
  storage: string;
  /** The key provider's kind: "kms" or "local". */
  keyProvider: string;
  clusterName: string;
}

export interface Broker {
  /** Every item written carries a MAC and every item read is verified (authenticated-store.ts). */
  store: ItemStore;
  keyring: Keyring;
  tokens: TokenStore;
  mounts: MountTable;
  policies: PolicyStore;
  audit: AuditLog;
  leases: LeaseManager;
  engines: Readonly<Record<string, EngineLoader>>;
  /**
   * The one engine instance of a mount in this process, for serving its requests, revoking
   * its leases and purging it: state an engine keeps (clients, pools) is kept once.
   */
  engineFor(mount: Mount): Promise<Engine>;
  now: () => number;
  info: BrokerInfo;
}

export interface BrokerOptions {
  /** The raw store: only the keyring uses it directly, everything else through `Broker.store`. */
  store: ItemStore;
  storage: string;
  keyProvider: KeyProvider;
  engines: Readonly<Record<string, EngineLoader>>;
  auditWriters: readonly AuditWriter[];
  /** Hash numbers and booleans in audit records too (Vault leaves them in clear). */
  auditHashNonStrings?: boolean;
  clusterName?: string;
  now?: () => number;
  /** Where sweeps and failed revocations are logged. Defaults to JSON lines on the console. */
  leaseLog?: LeaseLog;
  /** Where items that fail to verify are reported. Defaults to a JSON line on the console. */
  onRejectedItem?: (rejected: RejectedItem) => void;
}

/**
 * An HMAC key derived on first use (or when warm-up asks), so building a broker costs no
 * KMS call. A failed derivation is forgotten: the next use tries again.
 */
function lazyHmacKey(keyring: Keyring, label: string): () => Promise<HmacKey> {
  let key: Promise<HmacKey> | undefined;
  return () =>
    (key ??= deriveHmacKey(keyring, label).catch((error) => {
      key = undefined;
      throw error;
    }));
}

function lazyHmac(keyring: Keyring, label: string): (value: string) => Promise<string> {
  const key = lazyHmacKey(keyring, label);
  return async (value) => hmacHex(await key(), value);
}

export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const now = options.now ?? Date.now;
  const keyring = await openKeyring(options.store, options.keyProvider, { now });
  // The keyring's records are authenticated by the key provider; everything else goes
  // through this store, so no item is trusted unless it verifies.
  const store = authenticateStore(options.store, {
    key: lazyHmacKey(keyring, "item"),
    onRejected: options.onRejectedItem ?? logRejectedItem,
  });
  const mounts = createMountTable(store, now);
  const audit = createAuditLog({
    writers: options.auditWriters,
    key: lazyHmacKey(keyring, "audit"),
    hashNonStrings: options.auditHashNonStrings,
    now,
  });
  const leases = createLeaseManager({
    store,
    keyring,
    audit,
    mounts,
    now,
    resolveType: engineLeaseTypes(() => broker),
    log: options.leaseLog ?? consoleLeaseLog,
  });
  const engineInstances = new Map<string, Promise<Engine>>();
  function engineFor(mount: Mount): Promise<Engine> {
    let engine = engineInstances.get(mount.uuid);
    if (!engine) {
      const load = options.engines[mount.type];
      if (!load) {
        return Promise.reject(new CofferError("ERR_INTERNAL", `no engine for mount type ${mount.type}`));
      }
      engine = load().then((factory) => factory(mount, broker));
      // A failed load is not remembered: the next request tries again.
      engine.catch(() => engineInstances.delete(mount.uuid));
      engineInstances.set(mount.uuid, engine);
    }
    return engine;
  }

  const broker: Broker = {
    store,
    keyring,
    // Revoking a token revokes the leases it obtained, whichever endpoint revokes it.
    tokens: revokingLeasesWithToken(
      createTokenStore({ store, hash: lazyHmac(keyring, "token"), now }),
      leases,
    ),
    mounts,
    policies: createPolicyStore(store, now),
    audit,
    leases,
    engines: options.engines,
    engineFor,
    now,
    info: {
      version: VERSION,
      storage: options.storage,
      keyProvider: options.keyProvider.kind,
      clusterName: options.clusterName ?? "coffer",
    },
  };
  return broker;
}
