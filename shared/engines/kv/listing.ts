/**
 * LIST in Vault's shape for both KV versions: the names directly inside a folder, with
 * subfolders ending in "/", sorted; 404 when there are none. "app" lists as "app/" does.
 */
import type { ItemStore } from "../../store/item-store.ts";
import type { EngineResponse } from "../engine.ts";
import { keysPk } from "./storage.ts";

export async function listFolder(store: ItemStore, mountUuid: string, path: string): Promise<EngineResponse> {
  const folder = path === "" || path.endsWith("/") ? path : `${path}/`;
  const keys = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.query({ pk: keysPk(mountUuid), prefix: folder, cursor });
    for (const item of page.items) {
      const rest = item.sk.slice(folder.length);
      const slash = rest.indexOf("/");
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    cursor = page.cursor;
  } while (cursor);
  if (keys.size === 0) return { status: 404, raw: { errors: [] } };
  return { data: { keys: [...keys].sort() } };
}
