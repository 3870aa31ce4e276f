/**
 * A KV v2 mount's periodic work: finishing the removals a request left behind when it was
 * interrupted (a deleted secret's versions, versions pruned beyond what one atomic write
 * holds). Only secrets recorded under "kvclean/" are visited, so a quiet mount costs one
 * query.
 *
 * delete_version_after needs no sweep: as in Vault, a version's deletion time is fixed
 * when it is written, and every read compares it with the clock.
 */
import type { ItemStore } from "../../store/item-store.ts";
import type { PeriodicReport } from "../engine.ts";
import { cleanUpSecret } from "./cleanup.ts";
import { cleanupPk } from "./storage.ts";

export async function cleanUpMount(
  store: ItemStore,
  mountUuid: string,
  now: () => number,
  deadline: number,
): Promise<PeriodicReport> {
  let done = 0;
  let failed = 0;
  let cursor: string | undefined;
  do {
    const page = await store.query({ pk: cleanupPk(mountUuid), cursor, limit: 25 });
    for (const item of page.items) {
      if (now() >= deadline) return { done, failed, complete: false };
      try {
        await cleanUpSecret(store, mountUuid, item.sk);
        done += 1;
      } catch {
        // The record stays, so the next run tries again; one secret must not stop the rest.
        failed += 1;
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return { done, failed, complete: true };
}
