/**
 * The home region's table as another region sees it: the same store, whose failures to
 * reach it name the home region, so a caller of the second region learns why a request
 * that changes state is refused while reads still work (shared/mounts/request-region.ts).
 */
import { CofferError, isCofferError } from "../errors.ts";
import type { ItemStore } from "./item-store.ts";

export function homeRegionStore(store: ItemStore, region: string): ItemStore {
  const named = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (!isCofferError(error, "ERR_UPSTREAM_UNAVAILABLE")) throw error;
      throw new CofferError(
        "ERR_UPSTREAM_UNAVAILABLE",
        `the home region (${region}) cannot be reached, and this request is served there: ${error.message}`,
        [],
        { cause: error },
      );
    }
  };
  return {
    get: (key) => named(() => store.get(key)),
    batchGet: (keys) => named(() => store.batchGet(keys)),
    query: (input) => named(() => store.query(input)),
    write: (ops) => named(() => store.write(ops)),
    close: () => store.close(),
  };
}
