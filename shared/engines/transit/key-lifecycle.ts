/**
 * Creating, rotating, changing and deleting transit keys. Each is one atomic write
 * conditioned on the policy's revision, read fresh from the store: when another writer
 * got there first the change is recomputed on what it wrote, never lost or doubled.
 * Within a process, changes to one key queue behind each other, so only writers in other
 * processes ever race (and, beyond WRITE_ATTEMPTS lost races, get a 503 to retry).
 */
import { CofferError, invalidRequest } from "../../errors.ts";
import type { KeyPolicy } from "./key-policy.ts";
import type { KeyTypeName } from "./key-types.ts";
import { nowSeconds, type TransitMount } from "./transit-mount.ts";

/** Changes that lose a race are recomputed this many times before giving up. */
const WRITE_ATTEMPTS = 5;

export interface NewKey {
  name: string;
  type: KeyTypeName;
  derived: boolean;
  convergent: boolean;
  autoRotatePeriod: number;
}

function tooBusy(): CofferError {
  return new CofferError("ERR_UPSTREAM_UNAVAILABLE", "too many concurrent changes to this key, retry");
}

/** Lost a race: the attempt is recomputed on what the other writer stored. */
const RACED = Symbol("raced");

/**
 * Runs `attempt` until it does not lose a race, at most WRITE_ATTEMPTS times, after every
 * change to the same key this process started before it.
 */
function changeOf<T>(
  transit: TransitMount,
  name: string,
  attempt: () => Promise<T | typeof RACED>,
): Promise<T> {
  const run = async () => {
    for (let i = 0; i < WRITE_ATTEMPTS; i++) {
      const outcome = await attempt();
      if (outcome !== RACED) return outcome;
    }
    throw tooBusy();
  };
  const changes = transit.cache.changes;
  const next = (changes.get(name) ?? Promise.resolve()).then(run, run);
  const settled = next.then(
    () => {},
    () => {},
  );
  changes.set(name, settled);
  void settled.then(() => {
    if (changes.get(name) === settled) changes.delete(name);
  });
  return next;
}

/** Creates the key with its first version; `created` is false when the name was taken. */
export function createKey(
  transit: TransitMount,
  spec: NewKey,
): Promise<{ policy: KeyPolicy; created: boolean }> {
  const { storage, material } = transit;
  return changeOf(transit, spec.name, async () => {
    const existing = await storage.policy(spec.name, { fresh: true });
    if (existing) return { policy: existing, created: false };
    const createdAt = nowSeconds(transit);
    const policy: KeyPolicy = {
      name: spec.name,
      keyId: crypto.randomUUID(),
      type: spec.type,
      derived: spec.derived,
      convergent: spec.convergent,
      deletionAllowed: false,
      minDecryptionVersion: 1,
      minEncryptionVersion: 0,
      minAvailableVersion: 0,
      latestVersion: 1,
      latestCreatedAt: createdAt,
      autoRotatePeriod: spec.autoRotatePeriod,
      revision: 1,
    };
    const first = await material.newVersion(policy, 1, createdAt);
    if (await storage.create(policy, first)) return { policy, created: true };
    material.forget(policy.keyId);
    return RACED;
  });
}

/**
 * Adds the next version and makes it the one new encryptions use. With `when`, rotates
 * only while it holds of the policy as stored (automatic rotation: a competing run may
 * have rotated already). Undefined when the key does not exist.
 */
export function rotateKey(
  transit: TransitMount,
  name: string,
  when: (policy: KeyPolicy) => boolean = () => true,
): Promise<{ policy: KeyPolicy; rotated: boolean } | undefined> {
  const { storage, material } = transit;
  return changeOf(transit, name, async () => {
    const before = await storage.policy(name, { fresh: true });
    if (!before) return undefined;
    if (!when(before)) return { policy: before, rotated: false };
    const version = before.latestVersion + 1;
    const createdAt = nowSeconds(transit);
    const stored = await material.newVersion(before, version, createdAt);
    const after: KeyPolicy = {
      ...before,
      latestVersion: version,
      latestCreatedAt: createdAt,
      revision: before.revision + 1,
    };
    if (await storage.replace(before, after, { put: stored })) return { policy: after, rotated: true };
    // Another writer took this version number, maybe with other material: forget ours.
    material.forget(before.keyId, (v) => v === version);
    return RACED;
  });
}

/**
 * Applies `change` (which validates and may throw a 400) to the stored policy. Versions
 * below the new minimum available version are deleted with it. Undefined when the key
 * does not exist; the policy unchanged, without a write, when `change` changes nothing.
 */
export function changeKey(
  transit: TransitMount,
  name: string,
  change: (before: KeyPolicy) => KeyPolicy,
): Promise<KeyPolicy | undefined> {
  const { storage, material } = transit;
  return changeOf(transit, name, async () => {
    const before = await storage.policy(name, { fresh: true });
    if (!before) return undefined;
    const changed = change(before);
    if (JSON.stringify(changed) === JSON.stringify(before)) return before;
    const after: KeyPolicy = { ...changed, revision: before.revision + 1 };
    const drop: number[] = [];
    for (
      let version = Math.max(1, before.minAvailableVersion);
      version < after.minAvailableVersion;
      version++
    ) {
      drop.push(version);
    }
    if (!(await storage.replace(before, after, { drop }))) return RACED;
    if (drop.length > 0) material.forget(after.keyId, (version) => version < after.minAvailableVersion);
    return after;
  });
}

/** Deletes the key if its policy allows it; a 400, as in Vault, when it is missing or does not. */
export function deleteKey(transit: TransitMount, name: string): Promise<void> {
  const { storage, material } = transit;
  return changeOf(transit, name, async () => {
    const policy = await storage.policy(name, { fresh: true });
    if (!policy) throw invalidRequest("could not delete key; not found");
    if (!policy.deletionAllowed) throw invalidRequest("deletion is not allowed for this key");
    if (!(await storage.remove(policy))) return RACED;
    material.forget(policy.keyId);
  });
}
