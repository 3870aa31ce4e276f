/**
 * KV housekeeping for the scheduled function: finishes the removals that a request left
 * behind when it was interrupted (a deleted secret's versions, versions pruned beyond what
 * one atomic write holds). Only secrets recorded under "kvclean/" are visited, so a sweep
 * of a quiet store costs one query per KV v2 mount.
 *
 * delete_version_after needs no sweep: as in Vault, a version's deletion time is fixed
 * when it is written, and every read compares it with the clock.
 */
import type { Broker } from "../../broker.ts";
import { cleanUpSecret } from "./cleanup.ts";
import { cleanupPk } from "./storage.ts";

export interface KvSweepResult {
  /** Secrets whose pending removals were finished (or found finished). */
  cleaned: number;
  /** Secrets whose cleanup failed this time (the store refused or was unreachable); retried next sweep. */
  failed: number;
  /** False when the deadline stopped the sweep before it saw every recorded secret. */
  complete: boolean;
}

export async function sweepKv(broker: Broker, options: { deadline?: number } = {}): Promise<KvSweepResult> {
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  let cleaned = 0;
  let failed = 0;
  for (const mount of await broker.mounts.list()) {
    if (mount.type !== "kv" || mount.options.version !== "2") continue;
    let cursor: string | undefined;
    do {
      const page = await broker.store.query({ pk: cleanupPk(mount.uuid), cursor, limit: 25 });
      for (const item of page.items) {
        if (broker.now() >= deadline) return { cleaned, failed, complete: false };
        try {
          await cleanUpSecret(broker.store, mount.uuid, item.sk);
          cleaned += 1;
        } catch {
          // The record stays, so the next sweep tries again; one secret must not stop the rest.
          failed += 1;
        }
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return { cleaned, failed, complete: true };
}
