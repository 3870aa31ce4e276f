/**
 * The mount table: which engine serves which path prefix. Secret engines live at paths
 * like "secret/", auth methods at "auth/<name>/". Entries are items under pk "mount";
 * the built-in sys/ and auth/token/ are not stored.
 *
 * Each process caches the table for at most MOUNT_CACHE_MS, so a mount enabled or
 * disabled through one Lambda instance is seen by all others within that bound.
 */
import type { Mount, MountConfig } from "../engines/mount.ts";
import { CofferError, invalidRequest } from "../errors.ts";
import type { Item, ItemStore, WriteOp } from "../store/item-store.ts";

export const MOUNT_CACHE_MS = 5_000;

const PARTITION = "mount";

const BUILTIN_MOUNTS: readonly Mount[] = [
  {
    path: "sys/",
    type: "system",
    description: "system endpoints used for control, policy and debugging",
    accessor: "system_coffer",
    uuid: "system",
    options: {},
    config: { default_lease_ttl: 0, max_lease_ttl: 0 },
    builtin: true,
  },
  {
    path: "auth/token/",
    type: "token",
    description: "token based credentials",
    accessor: "auth_token_coffer",
    uuid: "token",
    options: {},
    config: { default_lease_ttl: 0, max_lease_ttl: 0 },
    builtin: true,
  },
];

/** Prefixes no mount may take or sit inside, besides the built-in mounts themselves. */
const RESERVED_PREFIXES = ["sys/", "auth/token/", "identity/", "cubbyhole/"];
/**
 * Segments the sys routes put after a mount path (sys/mounts/<path>/tune,
 * sys/auth/<path>/tune): a mount ending in one could not be addressed there.
 */
const RESERVED_LAST_SEGMENTS = new Set(["tune"]);

export interface EnableMountInput {
  path: string;
  type: string;
  description?: string;
  options?: Record<string, string>;
  config?: Partial<MountConfig>;
}

/** What tuning changes: each given value replaces the mount's own. */
export interface MountTuning {
  description?: string;
  options?: Record<string, string>;
  config?: MountConfig;
}

export interface MountTable {
  list(): Promise<Mount[]>;
  /** The mount with the longest path that prefixes `path`, and the rest of the path. */
  resolve(path: string): Promise<{ mount: Mount; rest: string } | undefined>;
  enable(input: EnableMountInput): Promise<Mount>;
  /**
   * Removes the entry and returns it (the caller purges the engine's data), or undefined
   * when nothing was mounted there: like Vault, disabling is idempotent.
   */
  disable(path: string): Promise<Mount | undefined>;
  /**
   * Changes the settings of the mount with this uuid at `path`: `tuning` computes them from
   * the entry as stored now, not as a process's cached table shows it.
   */
  tune(path: string, uuid: string, tuning: (current: Mount) => MountTuning): Promise<Mount>;
  /**
   * Moves the entry of the mount with this uuid from `from` to `to` in one atomic write:
   * the data, keyed by the uuid, moves with it. Fails when `to` is taken.
   */
  move(from: string, to: string, uuid: string): Promise<Mount>;
}

/** "secret" and "/secret/" both become "secret/". */
export function normalizeMountPath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") throw invalidRequest("mount path must not be empty");
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(trimmed)) {
    throw invalidRequest(`invalid mount path "${trimmed}": use letters, digits, "-", "_", "." and "/"`);
  }
  return `${trimmed}/`;
}

function fromItem(item: Item): Mount {
  return {
    path: item.sk,
    type: String(item.type),
    description: String(item.description ?? ""),
    accessor: String(item.accessor),
    uuid: String(item.uuid),
    options: (item.options ?? {}) as Record<string, string>,
    config: (item.config ?? { default_lease_ttl: 0, max_lease_ttl: 0 }) as unknown as MountConfig,
    builtin: false,
  };
}

function toItem(mount: Mount): Item {
  return {
    pk: PARTITION,
    sk: mount.path,
    type: mount.type,
    description: mount.description,
    accessor: mount.accessor,
    uuid: mount.uuid,
    options: mount.options,
    config: { ...mount.config },
  };
}

/** A path a new mount may take: well-formed, outside the reserved prefixes. */
export function allowedMountPath(input: string): string {
  const path = normalizeMountPath(input);
  if (path.startsWith("auth/") && path.split("/").length < 3) {
    throw invalidRequest("auth mount path must be auth/<name>");
  }
  for (const reserved of RESERVED_PREFIXES) {
    if (path.startsWith(reserved) || reserved.startsWith(path)) {
      throw invalidRequest(`cannot mount at "${path}": "${reserved}" is reserved`);
    }
  }
  const last = path.slice(0, -1).split("/").at(-1) ?? "";
  if (RESERVED_LAST_SEGMENTS.has(last)) {
    throw invalidRequest(`cannot mount at "${path}": a mount path must not end in "${last}"`);
  }
  return path;
}

function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buffer, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createMountTable(store: ItemStore, now: () => number = Date.now): MountTable {
  let cache: { mounts: Mount[]; loadedAt: number } | undefined;

  async function load(): Promise<Mount[]> {
    if (cache && now() - cache.loadedAt < MOUNT_CACHE_MS) return cache.mounts;
    const mounts: Mount[] = [...BUILTIN_MOUNTS];
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk: PARTITION, cursor });
      mounts.push(...page.items.map(fromItem));
      cursor = page.cursor;
    } while (cursor);
    // Longest first, so resolve() takes the most specific mount.
    mounts.sort((a, b) => b.path.length - a.path.length);
    cache = { mounts, loadedAt: now() };
    return mounts;
  }

  /** Refuses a path that is, contains or sits inside a mount: the table is read afresh. */
  async function refuseOverlap(path: string): Promise<void> {
    cache = undefined;
    for (const existing of await load()) {
      if (path.startsWith(existing.path) || existing.path.startsWith(path)) {
        throw invalidRequest(`path is already in use at ${existing.path}`);
      }
    }
  }

  /** The stored entry of the mount with this uuid at `path`, or a 400 naming the path. */
  async function storedEntry(path: string, uuid: string): Promise<Item> {
    const item = await store.get({ pk: PARTITION, sk: path });
    if (!item || item.uuid !== uuid) throw invalidRequest(`no matching mount at "${path}"`);
    return item;
  }

  /** A write of the entry conditioned on the uuid it was read with: it changed, or it did not. */
  async function writeEntry(operations: WriteOp[]): Promise<void> {
    try {
      await store.write(operations);
    } catch (error) {
      if (error instanceof CofferError && error.code === "ERR_CONDITION_FAILED") {
        throw new CofferError("ERR_CONFLICT", "the mount table changed while this request ran: retry it");
      }
      throw error;
    } finally {
      cache = undefined;
    }
  }

  return {
    async list() {
      return [...(await load())].sort((a, b) => a.path.localeCompare(b.path));
    },

    async resolve(path) {
      const withSlash = path.endsWith("/") ? path : `${path}/`;
      for (const mount of await load()) {
        if (withSlash.startsWith(mount.path)) return { mount, rest: path.slice(mount.path.length) };
      }
      return undefined;
    },

    async enable(input) {
      const path = allowedMountPath(input.path);
      const isAuth = path.startsWith("auth/");
      const defaultTtl = input.config?.default_lease_ttl ?? 0;
      const maxTtl = input.config?.max_lease_ttl ?? 0;
      if (defaultTtl > 0 && maxTtl > 0 && defaultTtl > maxTtl) {
        throw invalidRequest("given default lease TTL greater than given max lease TTL");
      }
      await refuseOverlap(path);
      const uuid = crypto.randomUUID();
      const accessorKind = isAuth ? "auth" : "";
      const accessor = `${accessorKind ? `${accessorKind}_` : ""}${input.type}_${randomHex(4)}`;
      const mount: Mount = {
        path,
        type: input.type,
        description: input.description ?? "",
        accessor,
        uuid,
        options: input.options ?? {},
        config: { ...input.config, default_lease_ttl: defaultTtl, max_lease_ttl: maxTtl },
        builtin: false,
      };
      try {
        await store.write([
          {
            op: "put",
            item: { ...toItem(mount), created_at: new Date(now()).toISOString() },
            condition: { exists: false },
          },
        ]);
      } catch (error) {
        if (error instanceof CofferError && error.code === "ERR_CONDITION_FAILED") {
          throw invalidRequest(`path is already in use at ${path}`);
        }
        throw error;
      }
      cache = undefined;
      return mount;
    },

    async disable(input) {
      const path = normalizeMountPath(input);
      if (BUILTIN_MOUNTS.some((m) => m.path === path)) throw invalidRequest(`cannot disable ${path}`);
      const item = await store.get({ pk: PARTITION, sk: path });
      if (!item) return undefined;
      try {
        await store.write([
          {
            op: "delete",
            key: { pk: PARTITION, sk: path },
            condition: { attribute: "uuid", equals: String(item.uuid) },
          },
        ]);
      } catch (error) {
        if (!(error instanceof CofferError && error.code === "ERR_CONDITION_FAILED")) throw error;
      }
      cache = undefined;
      return fromItem(item);
    },

    async tune(input, uuid, tuning) {
      const path = normalizeMountPath(input);
      const item = await storedEntry(path, uuid);
      const current = fromItem(item);
      const mount = { ...current, ...tuning(current) };
      await writeEntry([
        {
          op: "put",
          item: { ...item, ...toItem(mount) },
          condition: { attribute: "uuid", equals: uuid },
        },
      ]);
      return mount;
    },

    async move(fromInput, toInput, uuid) {
      const from = normalizeMountPath(fromInput);
      const to = allowedMountPath(toInput);
      const item = await storedEntry(from, uuid);
      await refuseOverlap(to);
      const mount = { ...fromItem(item), path: to };
      await writeEntry([
        { op: "delete", key: { pk: PARTITION, sk: from }, condition: { attribute: "uuid", equals: uuid } },
        { op: "put", item: { ...item, ...toItem(mount) }, condition: { exists: false } },
      ]);
      return mount;
    },
  };
}
