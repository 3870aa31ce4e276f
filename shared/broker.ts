/**
 * The broker: the composition of everything the core needs, built once per process by an
 * edge (functions/ or cli/) that picks the adapters. The core never reads configuration
 * itself.
 *
 * It builds the authenticated store, the keyring, the token store, the mount table, the
 * policy store, the audit log and the lease manager, and it keeps one engine instance per
 * mount, each built from its EngineContext (shared/engines/engine.ts): the engines never
 * see the broker. The lease manager finds a lease's type through the same instances.
 */
import { type AuditLog, type AuditWriter, createAuditLog } from "./audit/audit-log.ts";
import { createTokenStore } from "./auth/tokens/token-store.ts";
import { sweepingTokens, type TokenStore, withTrees } from "./auth/tokens/token-tree.ts";
import { deriveHmacKey, type HmacKey, hmacHex } from "./crypto/hmac.ts";
import type { KeyProvider } from "./crypto/key-provider.ts";
import { type Keyring, openKeyring } from "./crypto/keyring.ts";
import type { Engine, EngineContext, EngineFactory, MountLeases } from "./engines/engine.ts";
import type { LeaseType } from "./engines/lease-type.ts";
import type { Mount } from "./engines/mount.ts";
import { CofferError } from "./errors.ts";
import type { Lease } from "./leases/lease.ts";
import { createLeaseManager, type LeaseManager } from "./leases/lease-manager.ts";
import { consoleLog, type Log } from "./log.ts";
import { createMountTable, type MountTable } from "./mounts/mount-table.ts";
import type { PolicyStore } from "./policy/acl.ts";
import { createPolicyStore } from "./policy/policy-store.ts";
import { authenticateStore, logRejectedItem, type RejectedItem } from "./store/authenticated-store.ts";
import type { ItemStore } from "./store/item-store.ts";
import { scopeStore } from "./store/scoped-store.ts";
import { noTracing, type Tracing } from "./tracing.ts";
import { VERSION } from "./version.ts";

/** Loads an engine's code on first use, so a cold start pays only for the engines it serves. */
export type EngineLoader = () => Promise<EngineFactory>;

/** A mountable engine type: a secrets engine or an auth method. */
export interface EngineType {
  load: EngineLoader;
  /**
   * First segments of partitions every mount of the type reaches beside its own: data that
   * belongs to no one mount (the aws engine's deny lists belong to IAM roles).
   */
  sharedPartitions?: readonly string[];
}

/**
 * A backend built into the core (sys/, auth/token/): it works on the broker itself, as
 * Vault's system backend and token store work on their core.
 */
export type BuiltinFactory = (broker: Broker, mount: Mount) => Engine;

export interface EngineRegistry {
  /** What operators mount, by type name. */
  types: Readonly<Record<string, EngineType>>;
  /** The core's own backends, by the type of their built-in mount ("system", "token"). */
  builtin: Readonly<Record<string, () => Promise<BuiltinFactory>>>;
}

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
  engines: EngineRegistry;
  /**
   * The one engine instance of a mount in this process, for serving its requests, revoking
   * its leases, running its periodic work and purging it: state an engine keeps (clients,
   * pools, caches) is kept once.
   */
  engineFor(mount: Mount): Promise<Engine>;
  now: () => number;
  log: Log;
  info: BrokerInfo;
}

export interface BrokerOptions {
  /** The raw store: only the keyring uses it directly, everything else through `Broker.store`. */
  store: ItemStore;
  storage: string;
  keyProvider: KeyProvider;
  engines: EngineRegistry;
  auditWriters: readonly AuditWriter[];
  /** Hash numbers and booleans in audit records too (Vault leaves them in clear). */
  auditHashNonStrings?: boolean;
  clusterName?: string;
  now?: () => number;
  /** Where background work (sweeps, revocations, periodic work) logs. Defaults to JSON lines on the console. */
  log?: Log;
  /** Where items that fail to verify are reported. Defaults to a JSON line on the console. */
  onRejectedItem?: (rejected: RejectedItem) => void;
  /** Records the engines' calls to other services; nothing is traced unless given. */
  tracing?: Tracing;
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
  const log = options.log ?? consoleLog;
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

  /**
   * Finds a lease's type through the engine of the mount that issued it. A lease whose
   * mount is gone (disabled, or replaced by another mount at the same path) has no type:
   * its revocation fails and is retried, visibly, until an operator forces it.
   */
  async function leaseTypeOf(lease: Lease): Promise<LeaseType> {
    const mount = (await mounts.list()).find((candidate) => candidate.uuid === lease.mount.uuid);
    if (!mount) {
      throw new CofferError(
        "ERR_NOT_FOUND",
        `the mount that issued the lease (${lease.mount.path}) no longer exists`,
      );
    }
    const type = (await engineFor(mount)).leaseTypes?.[lease.type];
    if (!type)
      throw new CofferError("ERR_INTERNAL", `the ${mount.type} engine has no lease type "${lease.type}"`);
    return type;
  }

  const records = createTokenStore({ store, hash: lazyHmac(keyring, "token"), now });
  const leases = createLeaseManager({
    store,
    keyring,
    audit,
    mounts,
    now,
    resolveType: leaseTypeOf,
    log,
    tokenStanding: records.standing,
  });
  // Revoking a token revokes its tree and their leases, whichever endpoint revokes it.
  const tokens = withTrees(records, { store, leases, audit, now, log });

  function mountLeases(mount: Mount): MountLeases {
    const own = (id: string) => {
      if (!id.startsWith(mount.path)) {
        throw new CofferError("ERR_INTERNAL", `lease ${id} does not belong to the mount ${mount.path}`);
      }
      return id;
    };
    return {
      async issue(request, alsoWrite) {
        const lease = await leases.issue(
          { ...request, path: `${mount.path}${request.path}`, mount },
          alsoWrite,
        );
        return lease.id;
      },
      async standing(id) {
        const lease = await leases.lookup(own(id));
        return lease?.mount.uuid === mount.uuid && lease.claim === null && !lease.revokeRequested;
      },
      async revoke(id, revokeOptions) {
        await leases.revoke(own(id), revokeOptions);
      },
      async revokeAll() {
        const engine = await engineFor(mount);
        await leases.revokeMountLeases(mount.path, engine.leaseTypes ?? {});
      },
    };
  }

  function contextFor(mount: Mount, type: { sharedPartitions?: readonly string[] }): EngineContext {
    return {
      mount,
      store: scopeStore(store, { uuid: mount.uuid, sharedPartitions: type.sharedPartitions }),
      keyring,
      leases: mountLeases(mount),
      now,
      log,
      tracing: options.tracing ?? noTracing,
    };
  }

  async function build(mount: Mount): Promise<Engine> {
    if (mount.builtin) {
      const load = options.engines.builtin[mount.type];
      if (!load) throw new CofferError("ERR_INTERNAL", `no built-in backend for ${mount.path}`);
      return (await load())(broker, mount);
    }
    const type = options.engines.types[mount.type];
    if (!type) throw new CofferError("ERR_INTERNAL", `no engine for mount type ${mount.type}`);
    return (await type.load())(contextFor(mount, type));
  }

  const engineInstances = new Map<string, { mount: Mount; settings: string; engine: Promise<Engine> }>();
  function engineFor(mount: Mount): Promise<Engine> {
    const known = engineInstances.get(mount.uuid);
    // The mount table hands out the same entry until it reloads: no settings to compare.
    if (known?.mount === mount) return known.engine;
    // A mount moved (sys/remount) or tuned gets an engine built from its new settings.
    const settings = JSON.stringify([mount.path, mount.config, mount.options, mount.description]);
    if (known?.settings === settings) {
      known.mount = mount;
      return known.engine;
    }
    const engine = build(mount);
    // A failed load is not remembered: the next request tries again.
    engine.catch(() => {
      if (engineInstances.get(mount.uuid)?.engine === engine) engineInstances.delete(mount.uuid);
    });
    engineInstances.set(mount.uuid, { mount, settings, engine });
    return engine;
  }

  const broker: Broker = {
    store,
    keyring,
    tokens,
    mounts,
    policies: createPolicyStore(store, now),
    audit,
    // The revoker's sweep revokes due tokens with their trees, and due leases.
    leases: sweepingTokens(leases, tokens),
    engines: options.engines,
    engineFor,
    now,
    log,
    info: {
      version: VERSION,
      storage: options.storage,
      keyProvider: options.keyProvider.kind,
      clusterName: options.clusterName ?? "coffer",
    },
  };
  return broker;
}
