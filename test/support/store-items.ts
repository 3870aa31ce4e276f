import type { Item, ItemStore } from "../../shared/store/item-store.ts";

/** Every item of one partition, following cursors: what "nothing left behind" is checked against. */
export async function allItems(store: ItemStore, pk: string): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query({ pk, cursor });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}
