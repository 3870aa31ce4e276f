/**
 * The ItemStore contract: one suite, run against every adapter, so the embedded store and
 * DynamoDB answer every call the same way, and again through the authenticated store the
 * broker puts over them, which must answer the same. DynamoDB runs against moto.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTimeToLiveCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deriveHmacKey } from "../../shared/crypto/hmac.ts";
import { openKeyring } from "../../shared/crypto/keyring.ts";
import { createLocalKeyProvider } from "../../shared/crypto/local.ts";
import type { ErrorCode } from "../../shared/errors.ts";
import { authenticateStore, type RejectedItem } from "../../shared/store/authenticated-store.ts";
import { createDynamoDbStore, createTable, TTL_ATTRIBUTE } from "../../shared/store/dynamodb.ts";
import { createDynamoDbScanner } from "../../shared/store/dynamodb-scan.ts";
import { homeRegionStore } from "../../shared/store/home-region-store.ts";
import { MAC_ATTRIBUTE } from "../../shared/store/item-mac.ts";
import { itemSize, MAX_ITEM_BYTES } from "../../shared/store/item-size.ts";
import {
  type AttributeValue,
  type Item,
  type ItemKey,
  type ItemScanner,
  type ItemStore,
  MAX_WRITE_OPS,
  type QueryInput,
  type WriteOp,
} from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { freePort, motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

const rejectsWith = (promise: Promise<unknown>, code: ErrorCode) =>
  expect(promise).rejects.toMatchObject({ name: "CofferError", code });

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Registers the contract's tests in the enclosing describe; `open` gives a fresh, empty store. */
function itemStoreContract(open: () => Promise<ItemStore>) {
  let store: ItemStore;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  const put = (...items: Item[]) => store.write(items.map((item): WriteOp => ({ op: "put", item })));
  const get = (pk: string, sk: string) => store.get({ pk, sk });

  /** Every sort key the query yields, following cursors; checks each page keeps to the limit. */
  async function allSortKeys(input: QueryInput): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await store.query({ ...input, cursor });
      if (input.limit !== undefined) expect(result.items.length).toBeLessThanOrEqual(input.limit);
      keys.push(...result.items.map((item) => item.sk));
      cursor = result.cursor;
      if (cursor === undefined) return keys;
    }
    throw new Error("the query never ran out of pages");
  }

  describe("get and put", () => {
    it("returns undefined for a missing item and the item once put", async () => {
      expect(await get("p", "s")).toBeUndefined();
      await put({ pk: "p", sk: "s", value: "one" });
      expect(await get("p", "s")).toEqual({ pk: "p", sk: "s", value: "one" });
      expect(await get("p", "other")).toBeUndefined();
      expect(await get("other", "s")).toBeUndefined();
    });

    it("replaces the whole item on a second put", async () => {
      await put({ pk: "p", sk: "s", a: 1, b: "gone" });
      await put({ pk: "p", sk: "s", a: 2 });
      expect(await get("p", "s")).toEqual({ pk: "p", sk: "s", a: 2 });
    });

    it("round-trips every attribute type", async () => {
      const item: Item = {
        pk: "types",
        sk: "all",
        text: "plain",
        empty: "",
        unicode: "héllo, 世界 🔐 \u0000 end",
        zero: 0,
        negative: -42,
        float: 3.25,
        tiny: 1.5e-10,
        largest: Number.MAX_SAFE_INTEGER,
        smallest: Number.MIN_SAFE_INTEGER,
        yes: true,
        no: false,
        nothing: null,
        bytes: new Uint8Array([0, 1, 127, 128, 255]),
        noBytes: new Uint8Array(),
        list: [1, "two", null, false, [new Uint8Array([9])], { deep: { deeper: ["x"] } }],
        emptyList: [],
        emptyMap: {},
        // Map keys are the caller's: none may pass for a type tag or a prototype. JSON.parse
        // makes "__proto__" an own key, the way a request body would.
        map: JSON.parse(
          '{"S":"not a tag","N":{"M":"still not"},"B":[true],"__proto__":"own key","a.b":1,"#x":":y"}',
        ),
        "attribute with spaces.and.dots": "names are literal",
        status: "a reserved word in DynamoDB",
      };
      await put(item);
      const stored = await get("types", "all");
      expect(stored).toEqual(item);
      expect(Object.keys(stored?.map as object)).toContain("__proto__");
      expect(Object.getPrototypeOf(stored?.map)).toBe(Object.prototype);
      for (const name of ["bytes", "noBytes"]) {
        expect(Object.getPrototypeOf(stored?.[name])).toBe(Uint8Array.prototype);
      }
    });

    it("refuses values it cannot store exactly, writing nothing", async () => {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, -(2 ** 60), 1e-200, new Date(0)]) {
        await rejectsWith(put({ pk: "p", sk: "bad", value: value as number }), "ERR_INVALID_REQUEST");
        await rejectsWith(
          put({ pk: "p", sk: "bad", nested: { list: [value as number] } }),
          "ERR_INVALID_REQUEST",
        );
      }
      expect(await get("p", "bad")).toBeUndefined();
    });

    it("refuses empty keys", async () => {
      await rejectsWith(get("", "s"), "ERR_INVALID_REQUEST");
      await rejectsWith(get("p", ""), "ERR_INVALID_REQUEST");
      await rejectsWith(put({ pk: "p", sk: "" }), "ERR_INVALID_REQUEST");
      await rejectsWith(
        store.batchGet([
          { pk: "p", sk: "s" },
          { pk: "", sk: "s" },
        ]),
        "ERR_INVALID_REQUEST",
      );
    });
  });

  describe("batchGet", () => {
    it("answers in the order asked, with undefined for missing items, duplicates repeated", async () => {
      await put({ pk: "p", sk: "a", n: 1 }, { pk: "p", sk: "b", n: 2 }, { pk: "q", sk: "a", n: 3 });
      const got = await store.batchGet([
        { pk: "p", sk: "b" },
        { pk: "p", sk: "missing" },
        { pk: "q", sk: "a" },
        { pk: "p", sk: "a" },
        { pk: "p", sk: "b" },
      ]);
      expect(got.map((item) => item?.n)).toEqual([2, undefined, 3, 1, 2]);
      expect(await store.batchGet([])).toEqual([]);
    });

    it("fetches more keys than one DynamoDB batch takes", async () => {
      const items = Array.from({ length: 150 }, (_, i): Item => ({ pk: "many", sk: `k${i}`, i }));
      await put(...items.slice(0, 100));
      await put(...items.slice(100));
      const keys: ItemKey[] = [];
      for (let i = 0; i < 260; i++) keys.push({ pk: "many", sk: `k${(i * 7) % 170}` });
      const got = await store.batchGet(keys);
      expect(got.map((item) => item?.i)).toEqual(
        keys.map((_, i) => ((i * 7) % 170 < 150 ? (i * 7) % 170 : undefined)),
      );
    });
  });

  describe("query", () => {
    const sortKeys = [
      "a",
      "a#1",
      "a#2",
      "a%",
      "a%b",
      "a%c",
      "a_",
      "a_c",
      "ab",
      "abc",
      "a\uff5e",
      "a😀",
      "b",
      "é",
      "é#1",
      "éa",
      "😀",
      "😀1",
    ];

    beforeEach(async () => {
      await put(...sortKeys.map((sk): Item => ({ pk: "q", sk })));
      await put({ pk: "q2", sk: "a%b" }, { pk: "qq", sk: "a" }, { pk: "Q", sk: "a" });
    });

    it("matches a prefix byte for byte, wildcards and all", async () => {
      const withPrefix = async (prefix: string) =>
        (await store.query({ pk: "q", prefix })).items.map((i) => i.sk);
      expect(await withPrefix("a%")).toEqual(["a%", "a%b", "a%c"]);
      expect(await withPrefix("a_")).toEqual(["a_", "a_c"]);
      expect(await withPrefix("a#")).toEqual(["a#1", "a#2"]);
      expect(await withPrefix("é")).toEqual(["é", "é#1", "éa"]);
      expect(await withPrefix("😀")).toEqual(["😀", "😀1"]);
      expect(await withPrefix("abc")).toEqual(["abc"]);
      expect(await withPrefix("abcd")).toEqual([]);
      expect(await withPrefix("a")).toEqual(sortKeys.filter((sk) => sk.startsWith("a")).sort(byteOrder));
    });

    it("orders by UTF-8 bytes, ascending or descending, within one partition only", async () => {
      const sorted = [...sortKeys].sort(byteOrder);
      // UTF-16 order would put the emoji before U+FF5E.
      expect(sorted.indexOf("a\uff5e")).toBeLessThan(sorted.indexOf("a😀"));
      expect(await allSortKeys({ pk: "q" })).toEqual(sorted);
      expect(await allSortKeys({ pk: "q", descending: true })).toEqual([...sorted].reverse());
      expect(await allSortKeys({ pk: "q", prefix: "a%", descending: true })).toEqual(["a%c", "a%b", "a%"]);
      expect(await allSortKeys({ pk: "nobody" })).toEqual([]);
    });

    it("takes an inclusive range, open at either end", async () => {
      await put(...Array.from({ length: 10 }, (_, i): Item => ({ pk: "r", sk: `k0${i}` })));
      expect(await allSortKeys({ pk: "r", from: "k03", to: "k06" })).toEqual(["k03", "k04", "k05", "k06"]);
      expect(await allSortKeys({ pk: "r", from: "k03", to: "k06", descending: true })).toEqual([
        "k06",
        "k05",
        "k04",
        "k03",
      ]);
      expect(await allSortKeys({ pk: "r", from: "k035", to: "k055" })).toEqual(["k04", "k05"]);
      expect(await allSortKeys({ pk: "r", from: "k07" })).toEqual(["k07", "k08", "k09"]);
      expect(await allSortKeys({ pk: "r", to: "k02" })).toEqual(["k00", "k01", "k02"]);
      expect(await allSortKeys({ pk: "r", from: "k04", to: "k04" })).toEqual(["k04"]);
      expect(await allSortKeys({ pk: "r", from: "k06", to: "k03" })).toEqual([]);
      expect(await allSortKeys({ pk: "r", from: "", to: "k00" })).toEqual(["k00"]);
      expect(await allSortKeys({ pk: "r", to: "" })).toEqual([]);
    });

    it("refuses malformed queries", async () => {
      await rejectsWith(store.query({ pk: "q", prefix: "a", from: "a" }), "ERR_INVALID_REQUEST");
      await rejectsWith(store.query({ pk: "q", limit: 0 }), "ERR_INVALID_REQUEST");
      await rejectsWith(store.query({ pk: "q", limit: 1.5 }), "ERR_INVALID_REQUEST");
      await rejectsWith(store.query({ pk: "", prefix: "a" }), "ERR_INVALID_REQUEST");
      await rejectsWith(store.query({ pk: "q", cursor: "not a cursor!" }), "ERR_INVALID_REQUEST");
    });
  });

  describe("query paging", () => {
    const names = Array.from({ length: 250 }, (_, i) => `item-${String(i).padStart(3, "0")}`);

    beforeEach(async () => {
      for (let start = 0; start < names.length; start += MAX_WRITE_OPS) {
        await put(
          ...names.slice(start, start + MAX_WRITE_OPS).map((sk): Item => ({ pk: "page", sk, body: sk })),
        );
      }
    });

    it("walks 250 items by cursor with no duplicates or gaps", async () => {
      expect(await allSortKeys({ pk: "page", limit: 7 })).toEqual(names);
      expect(await allSortKeys({ pk: "page", limit: 13, descending: true })).toEqual([...names].reverse());
      expect(await allSortKeys({ pk: "page", prefix: "item-00", limit: 1 })).toEqual(names.slice(0, 10));
      expect(await allSortKeys({ pk: "page", limit: 250 })).toEqual(names);
      expect(await allSortKeys({ pk: "page" })).toEqual(names);
    });

    it("pages within a prefix or a range", async () => {
      const hundreds = names.filter((name) => name.startsWith("item-1"));
      expect(await allSortKeys({ pk: "page", prefix: "item-1", limit: 9 })).toEqual(hundreds);
      expect(await allSortKeys({ pk: "page", prefix: "item-1", limit: 9, descending: true })).toEqual(
        [...hundreds].reverse(),
      );
      const middle = names.slice(50, 150);
      expect(await allSortKeys({ pk: "page", from: "item-050", to: "item-149", limit: 10 })).toEqual(middle);
      expect(
        await allSortKeys({ pk: "page", from: "item-050", to: "item-149", limit: 10, descending: true }),
      ).toEqual([...middle].reverse());
    });

    it("returns whole items on a page", async () => {
      const page = await store.query({ pk: "page", limit: 2 });
      expect(page.items).toEqual([
        { pk: "page", sk: "item-000", body: "item-000" },
        { pk: "page", sk: "item-001", body: "item-001" },
      ]);
      expect(page.cursor).toEqual(expect.any(String));
    });
  });

  describe("conditions", () => {
    const key = { pk: "c", sk: "1" };

    it("puts only where exists:false holds", async () => {
      await store.write([{ op: "put", item: { ...key, v: 1 }, condition: { exists: false } }]);
      await rejectsWith(
        store.write([{ op: "put", item: { ...key, v: 2 }, condition: { exists: false } }]),
        "ERR_CONDITION_FAILED",
      );
      expect((await store.get(key))?.v).toBe(1);
    });

    it("puts only where exists:true holds", async () => {
      await rejectsWith(
        store.write([{ op: "put", item: { ...key, v: 1 }, condition: { exists: true } }]),
        "ERR_CONDITION_FAILED",
      );
      expect(await store.get(key)).toBeUndefined();
      await put({ ...key, v: 1 });
      await store.write([{ op: "put", item: { ...key, v: 2 }, condition: { exists: true } }]);
      expect((await store.get(key))?.v).toBe(2);
    });

    it("puts only where an attribute equals a value of the same type", async () => {
      await rejectsWith(
        store.write([{ op: "put", item: { ...key, v: 1 }, condition: { attribute: "v", equals: 0 } }]),
        "ERR_CONDITION_FAILED",
      );
      await put({ ...key, v: 1, name: "x", on: true, status: "live" });
      await store.write([
        { op: "put", item: { ...key, v: 2, on: true }, condition: { attribute: "v", equals: 1 } },
      ]);
      for (const condition of [
        { attribute: "v", equals: 1 },
        { attribute: "v", equals: "2" },
        { attribute: "on", equals: false },
        { attribute: "on", equals: "true" },
        { attribute: "missing", equals: "x" },
      ]) {
        await rejectsWith(
          store.write([{ op: "put", item: { ...key, v: 9 }, condition }]),
          "ERR_CONDITION_FAILED",
        );
      }
      await store.write([
        { op: "put", item: { ...key, v: 3 }, condition: { attribute: "on", equals: true } },
      ]);
      expect((await store.get(key))?.v).toBe(3);
    });

    it("compares attributes whose names are reserved words or look like paths", async () => {
      await put({ ...key, status: "live", "a.b": "dotted", "#v": 1 });
      for (const [attribute, equals] of [
        ["status", "live"],
        ["a.b", "dotted"],
        ["#v", 1],
      ] as const) {
        await store.write([{ op: "check", key, condition: { attribute, equals } }]);
      }
      await rejectsWith(
        store.write([{ op: "check", key, condition: { attribute: "status", equals: "dead" } }]),
        "ERR_CONDITION_FAILED",
      );
    });

    it("deletes only where the condition holds", async () => {
      await rejectsWith(
        store.write([{ op: "delete", key, condition: { exists: true } }]),
        "ERR_CONDITION_FAILED",
      );
      await store.write([{ op: "delete", key }]);
      await put({ ...key, v: 1 });
      await rejectsWith(
        store.write([{ op: "delete", key, condition: { exists: false } }]),
        "ERR_CONDITION_FAILED",
      );
      await rejectsWith(
        store.write([{ op: "delete", key, condition: { attribute: "v", equals: 2 } }]),
        "ERR_CONDITION_FAILED",
      );
      expect(await store.get(key)).toBeDefined();
      await store.write([{ op: "delete", key, condition: { attribute: "v", equals: 1 } }]);
      expect(await store.get(key)).toBeUndefined();
    });

    it("checks an item the write does not otherwise touch", async () => {
      const other = { pk: "c", sk: "2" };
      await rejectsWith(
        store.write([{ op: "check", key, condition: { exists: true } }]),
        "ERR_CONDITION_FAILED",
      );
      await store.write([{ op: "check", key, condition: { exists: false } }]);
      await rejectsWith(
        store.write([
          { op: "check", key, condition: { exists: true } },
          { op: "put", item: { ...other, v: 1 } },
        ]),
        "ERR_CONDITION_FAILED",
      );
      expect(await store.get(other)).toBeUndefined();
      await put({ ...key, v: 7 });
      await store.write([
        { op: "check", key, condition: { attribute: "v", equals: 7 } },
        { op: "put", item: { ...other, v: 1 } },
      ]);
      expect(await store.get(other)).toEqual({ ...other, v: 1 });
      expect(await store.get(key)).toEqual({ ...key, v: 7 });
    });
  });

  describe("atomic writes", () => {
    it("writes nothing when any condition fails", async () => {
      await put({ pk: "t", sk: "doomed", v: 1 }, { pk: "t", sk: "taken", v: 1 });
      await rejectsWith(
        store.write([
          { op: "put", item: { pk: "t", sk: "new-1", v: 1 } },
          { op: "put", item: { pk: "t", sk: "new-2", v: 1 }, condition: { exists: false } },
          { op: "delete", key: { pk: "t", sk: "doomed" } },
          { op: "put", item: { pk: "t", sk: "taken", v: 2 }, condition: { exists: false } },
        ]),
        "ERR_CONDITION_FAILED",
      );
      expect(await allSortKeys({ pk: "t" })).toEqual(["doomed", "taken"]);
      expect((await store.get({ pk: "t", sk: "taken" }))?.v).toBe(1);
    });

    it("applies every operation when all conditions hold", async () => {
      await put({ pk: "t", sk: "old", v: 1 });
      await store.write([
        { op: "put", item: { pk: "t", sk: "a", v: 1 }, condition: { exists: false } },
        { op: "put", item: { pk: "u", sk: "b", v: 1 } },
        { op: "delete", key: { pk: "t", sk: "old" }, condition: { attribute: "v", equals: 1 } },
      ]);
      expect(await allSortKeys({ pk: "t" })).toEqual(["a"]);
      expect(await store.get({ pk: "u", sk: "b" })).toEqual({ pk: "u", sk: "b", v: 1 });
    });

    it("does nothing for an empty write", async () => {
      await store.write([]);
    });

    it("takes exactly MAX_WRITE_OPS operations and refuses one more, writing nothing", async () => {
      const puts = (count: number, pk: string) =>
        Array.from({ length: count }, (_, i): WriteOp => ({ op: "put", item: { pk, sk: `k${i}` } }));
      await store.write(puts(MAX_WRITE_OPS, "full"));
      expect(await allSortKeys({ pk: "full" })).toHaveLength(MAX_WRITE_OPS);
      await rejectsWith(store.write(puts(MAX_WRITE_OPS + 1, "over")), "ERR_INVALID_REQUEST");
      expect(await allSortKeys({ pk: "over" })).toEqual([]);
    });

    it("refuses two operations on one item, writing nothing", async () => {
      const item = { pk: "d", sk: "1" };
      for (const second of [
        { op: "delete", key: item },
        { op: "put", item: { ...item, v: 2 } },
        { op: "check", key: item, condition: { exists: false } },
      ] as WriteOp[]) {
        await rejectsWith(
          store.write([
            { op: "put", item: { pk: "d", sk: "0" } },
            { op: "put", item: { ...item, v: 1 } },
            second,
          ]),
          "ERR_INVALID_REQUEST",
        );
      }
      expect(await allSortKeys({ pk: "d" })).toEqual([]);
    });
  });

  describe("item size", () => {
    // pk + "big" + sk + "1" + "blob" + the blob's bytes: 2 + 3 + 2 + 1 + 4 = 12 bytes of overhead.
    const sized = (bytes: number): Item => ({ pk: "big", sk: "1", blob: "x".repeat(bytes - 12) });

    it("counts size as DynamoDB does and stores an item near the limit", async () => {
      expect(itemSize(sized(MAX_ITEM_BYTES))).toBe(MAX_ITEM_BYTES);
      // Moto stops at 405,000 bytes rather than DynamoDB's 409,600, so the suite stays below.
      await put(sized(400_000));
      expect((await get("big", "1"))?.blob).toHaveLength(400_000 - 12);
      const bytes = new Uint8Array(300 * 1024).map((_, i) => i % 251);
      await put({ pk: "big", sk: "2", bytes });
      const stored = (await get("big", "2"))?.bytes as Uint8Array;
      expect(Buffer.compare(stored, bytes)).toBe(0);
    });

    it("refuses an item over the limit, writing nothing", async () => {
      await rejectsWith(put(sized(MAX_ITEM_BYTES + 1)), "ERR_PAYLOAD_TOO_LARGE");
      await rejectsWith(
        put({ pk: "big", sk: "1", blob: new Uint8Array(MAX_ITEM_BYTES) }),
        "ERR_PAYLOAD_TOO_LARGE",
      );
      // Multi-byte characters count as their UTF-8 length.
      await rejectsWith(
        put({ pk: "big", sk: "1", blob: "é".repeat(MAX_ITEM_BYTES / 2) }),
        "ERR_PAYLOAD_TOO_LARGE",
      );
      await rejectsWith(
        put({ pk: "big", sk: "0", small: true }, sized(MAX_ITEM_BYTES + 1)),
        "ERR_PAYLOAD_TOO_LARGE",
      );
      expect(await allSortKeys({ pk: "big" })).toEqual([]);
    });
  });

  describe("concurrency", () => {
    const key = { pk: "race", sk: "1" };
    const outcome = async (writes: Promise<void>[]) => {
      const results = await Promise.allSettled(writes);
      const winners = results.flatMap((result, i) => (result.status === "fulfilled" ? [i] : []));
      for (const result of results) {
        if (result.status === "rejected")
          expect(result.reason).toMatchObject({ code: "ERR_CONDITION_FAILED" });
      }
      return winners;
    };

    it("lets exactly one of 20 racing exists:false puts win", async () => {
      const winners = await outcome(
        Array.from({ length: 20 }, (_, i) =>
          store.write([{ op: "put", item: { ...key, writer: i }, condition: { exists: false } }]),
        ),
      );
      expect(winners).toHaveLength(1);
      expect((await store.get(key))?.writer).toBe(winners[0]);
    });

    it("lets exactly one of 10 racing compare-and-set writes win", async () => {
      await put({ ...key, version: 1 });
      const winners = await outcome(
        Array.from({ length: 10 }, (_, i) =>
          store.write([
            {
              op: "put",
              item: { ...key, version: 2, writer: i },
              condition: { attribute: "version", equals: 1 },
            },
            { op: "put", item: { pk: "race", sk: `log-${i}` }, condition: { exists: false } },
          ]),
        ),
      );
      expect(winners).toHaveLength(1);
      expect(await store.get(key)).toEqual({ ...key, version: 2, writer: winners[0] });
      expect(await allSortKeys({ pk: "race", prefix: "log-" })).toEqual([`log-${winners[0]}`]);
    });
  });
}

/**
 * `raw` as the broker uses it: behind the authenticated store, its MAC key derived from a
 * keyring in the same store (or in `keyringStore`). Rejected items are reported to `rejected`.
 */
async function authenticated(
  raw: ItemStore,
  rejected: RejectedItem[] = [],
  keyringStore = raw,
): Promise<ItemStore> {
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const keyring = await openKeyring(keyringStore, createLocalKeyProvider(rootKey));
  const key = await deriveHmacKey(keyring, "item");
  return authenticateStore(raw, { key: async () => key, onRejected: (item) => rejected.push(item) });
}

/** What the authenticated store adds: an item changed behind its back reads as absent. */
function authenticatedStoreContract(openRaw: () => Promise<ItemStore>) {
  let raw: ItemStore;
  let store: ItemStore;
  let rejected: RejectedItem[];
  beforeEach(async () => {
    raw = await openRaw();
    rejected = [];
    store = await authenticated(raw, rejected);
  });
  afterEach(async () => {
    await store.close();
  });

  const item: Item = { pk: "a", sk: "1", text: "x", n: 1, on: true, list: ["y"], map: { k: 2 } };
  const rawPut = (changed: Item) => raw.write([{ op: "put", item: changed }]);
  const stored = async () => (await raw.get(item))!;

  it("stores a MAC with each item and hides it from readers", async () => {
    await store.write([{ op: "put", item }]);
    expect((await stored())[MAC_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
    expect(await store.get(item)).toEqual(item);
    expect(rejected).toEqual([]);
  });

  it.each([
    ["an edited string", { text: "z" }],
    ["a number for a string that spells it", { n: "1" }],
    ["an edited element of a list", { list: ["z"] }],
    ["an edited value in a map", { map: { k: 3 } }],
    ["an added attribute", { extra: "x" }],
    ["a removed attribute", { on: undefined }],
    ["a MAC taken from another item", "mac of b"],
  ] as [string, Record<string, AttributeValue | undefined> | "mac of b"][])(
    "treats an item with %s as absent from every read, and reports it",
    async (_, change) => {
      await store.write([
        { op: "put", item },
        { op: "put", item: { ...item, sk: "2" } },
      ]);
      const other = await raw.get({ pk: "a", sk: "2" });
      const tampered =
        change === "mac of b"
          ? { ...(await stored()), mac: other![MAC_ATTRIBUTE]! }
          : { ...(await stored()), ...change };
      await rawPut(tampered as Item);

      expect(await store.get(item)).toBeUndefined();
      expect(await store.batchGet([item, { pk: "a", sk: "2" }])).toEqual([undefined, { ...item, sk: "2" }]);
      expect((await store.query({ pk: "a" })).items).toEqual([{ ...item, sk: "2" }]);
      expect(rejected).toEqual(Array(3).fill({ pk: "a", sk: "1", reason: "MAC mismatch" }));
    },
  );

  it("treats an item moved to another key, or without a MAC, as absent", async () => {
    await store.write([{ op: "put", item }]);
    const { [MAC_ATTRIBUTE]: _mac, ...bare } = await stored();
    await raw.write([
      { op: "put", item: { ...(await stored()), sk: "moved" } },
      { op: "put", item: { ...(await stored()), pk: "elsewhere" } },
      { op: "put", item: { ...bare, sk: "bare" } },
      { op: "put", item: { ...(await stored()), sk: "short", mac: new Uint8Array(32) } },
    ]);
    const keys = ["moved", "bare", "short"].map((sk) => ({ pk: "a", sk }));
    expect(await store.batchGet([...keys, { pk: "elsewhere", sk: "1" }])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(rejected.map(({ sk, reason }) => [sk, reason])).toEqual([
      ["moved", "MAC mismatch"],
      ["bare", "no MAC"],
      ["short", "malformed MAC"],
      ["1", "MAC mismatch"],
    ]);
  });

  it("keeps paging past a rejected item", async () => {
    await store.write(
      ["1", "2", "3", "4"].map((sk): WriteOp => ({ op: "put", item: { pk: "p", sk, v: sk } })),
    );
    await rawPut({ ...(await raw.get({ pk: "p", sk: "2" }))!, v: "forged" });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk: "p", limit: 1, cursor });
      seen.push(...page.items.map((found) => found.sk));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(["1", "3", "4"]);
  });

  it("never answers an empty page while items may follow, so forged items cannot end a scan", async () => {
    await store.write(
      ["1", "2", "3", "4"].map((sk): WriteOp => ({ op: "put", item: { pk: "p", sk, v: sk } })),
    );
    for (const sk of ["1", "2", "3"]) {
      await rawPut({ ...(await raw.get({ pk: "p", sk }))!, v: "forged" });
    }
    const page = await store.query({ pk: "p", limit: 1 });
    expect(page.items).toEqual([{ pk: "p", sk: "4", v: "4" }]);
    expect(await store.query({ pk: "p", limit: 2, descending: true })).toMatchObject({
      items: [{ sk: "4" }],
    });
  });

  it("refuses a write that uses the MAC attribute's name, writing nothing", async () => {
    await rejectsWith(
      store.write([
        { op: "put", item: { pk: "a", sk: "0" } },
        { op: "put", item: { ...item, [MAC_ATTRIBUTE]: "mine" } },
      ]),
      "ERR_INTERNAL",
    );
    expect(await raw.query({ pk: "a" })).toEqual({ items: [] });
  });

  it("is unreadable under another keyring's key", async () => {
    await store.write([{ op: "put", item }]);
    const otherDeployment = openSqliteStore({ path: ":memory:" });
    const stranger = await authenticated(raw, rejected, otherDeployment);
    expect(await stranger.get(item)).toBeUndefined();
    await otherDeployment.close();
    expect(rejected).toEqual([{ pk: "a", sk: "1", reason: "MAC mismatch" }]);
  });
}

/** The whole-table scan operator commands use: every item once, across pages and partitions. */
function itemScannerContract(open: () => Promise<ItemStore & ItemScanner>) {
  let store: ItemStore & ItemScanner;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  async function scanAll(limit?: number): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await store.scan({ limit, cursor });
      if (limit !== undefined) expect(result.items.length).toBeLessThanOrEqual(limit);
      items.push(...result.items);
      cursor = result.cursor;
      if (cursor === undefined) return items;
    }
    throw new Error("the scan never ran out of pages");
  }

  describe("scan", () => {
    it("finds nothing in an empty table", async () => {
      expect(await scanAll()).toEqual([]);
    });

    it("yields every item of every partition once, with its attributes, page by page", async () => {
      const items: Item[] = [];
      for (const pk of ["a", "b/é", "keyring", "token/ff"]) {
        for (const sk of ["1", "2", "v0000000001"]) {
          items.push({
            pk,
            sk,
            n: items.length,
            bytes: new Uint8Array([items.length, 255]),
            nested: { l: [pk] },
          });
        }
      }
      for (let start = 0; start < items.length; start += 25) {
        await store.write(items.slice(start, start + 25).map((item): WriteOp => ({ op: "put", item })));
      }
      const key = (item: Item) => `${item.pk}\u0000${item.sk}`;
      for (const limit of [undefined, 1, 5]) {
        const scanned = await scanAll(limit);
        expect(scanned.map(key).sort()).toEqual(items.map(key).sort());
        expect(new Map(scanned.map((item) => [key(item), item]))).toEqual(
          new Map(items.map((item) => [key(item), item])),
        );
      }
    });

    it("refuses a cursor it did not return", async () => {
      await expect(store.scan({ cursor: "bm90IGEgY3Vyc29y" })).rejects.toMatchObject({
        code: "ERR_INVALID_REQUEST",
      });
    });
  });
}

describe("SQLite store, in memory", () => {
  itemStoreContract(async () => openSqliteStore({ path: ":memory:" }));
  itemScannerContract(async () => openSqliteStore({ path: ":memory:" }));
});

describe("SQLite store, in memory, authenticated", () => {
  itemStoreContract(() => authenticated(openSqliteStore({ path: ":memory:" })));
  authenticatedStoreContract(async () => openSqliteStore({ path: ":memory:" }));
});

describe("SQLite store, on a file", () => {
  let directory: string;
  let files = 0;
  const nextPath = () => join(directory, `store-${++files}.db`);
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "coffer-store-"));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  itemStoreContract(async () => openSqliteStore({ path: nextPath() }));

  it("keeps its items after it is closed and opened again", async () => {
    const path = nextPath();
    const first = openSqliteStore({ path });
    await first.write([{ op: "put", item: { pk: "p", sk: "s", bytes: new Uint8Array([1, 2]), n: 1.5 } }]);
    await first.close();
    const second = openSqliteStore({ path });
    expect(await second.get({ pk: "p", sk: "s" })).toEqual({
      pk: "p",
      sk: "s",
      bytes: new Uint8Array([1, 2]),
      n: 1.5,
    });
    await second.close();
  });

  it("shares one file between two open stores, as the dev server and a CLI command do", async () => {
    const path = nextPath();
    const server = openSqliteStore({ path });
    const cli = openSqliteStore({ path });
    await cli.write([{ op: "put", item: { pk: "p", sk: "s", v: 1 } }]);
    expect(await server.get({ pk: "p", sk: "s" })).toEqual({ pk: "p", sk: "s", v: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? server : cli).write([
          { op: "put", item: { pk: "p", sk: "once", i }, condition: { exists: false } },
        ]),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    await Promise.all([server.close(), cli.close()]);
  });
});

const describeAws = motoAvailable() ? describe : describe.skip;

describeAws("DynamoDB store, on moto", () => {
  const moto = useMoto();
  let client: DynamoDBClient;
  let tables = 0;
  beforeAll(async () => {
    // moto applies concurrent requests on separate threads without serializing conditional
    // writes, so two racing writes can both win there, which DynamoDB never allows. One
    // connection keeps the racing tests below a test of the adapter, not of moto.
    client = new DynamoDBClient({
      ...motoClientConfig(moto),
      requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
    });
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
  });

  const freshTable = async () => {
    const tableName = `items-${++tables}`;
    await createTable(client, tableName);
    return createDynamoDbStore({ client, tableName });
  };

  itemStoreContract(freshTable);
  itemScannerContract(async () => {
    const tableName = `items-${++tables}`;
    await createTable(client, tableName);
    return { ...createDynamoDbStore({ client, tableName }), ...createDynamoDbScanner({ client, tableName }) };
  });

  describe("authenticated", () => {
    itemStoreContract(async () => authenticated(await freshTable()));
    authenticatedStoreContract(freshTable);
  });

  /**
   * A global table's regions: each checks a condition against its own replica, and two
   * regions' writes to one item are reconciled later by last writer wins. So a request
   * that relies on a condition runs on the home region's table from every region
   * (shared/mounts/request-region.ts), through the store the contract holds for.
   */
  describe("the home region's table, from another region", () => {
    const SECONDARY = "eu-west-1";
    const regional = (region: string, endpoint = moto.endpoint) =>
      new DynamoDBClient({
        ...motoClientConfig(moto),
        endpoint,
        region,
        maxAttempts: 1,
        requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
      });
    const freshRegions = async () => {
      const tableName = `items-${++tables}`;
      const replica = regional(SECONDARY);
      await createTable(client, tableName);
      await createTable(replica, tableName);
      return {
        home: homeRegionStore(createDynamoDbStore({ client, tableName }), moto.region),
        replica: createDynamoDbStore({ client: replica, tableName }),
      };
    };

    itemStoreContract(async () => (await freshRegions()).home);

    it("keeps a create-if-absent exact, where two replicas would both accept it", async () => {
      const { home, replica } = await freshRegions();
      const create = (value: string): WriteOp[] => [
        { op: "put", item: { pk: "transit/key", sk: "orders", value }, condition: { exists: false } },
      ];
      // Each replica alone accepts its own create: replication would keep one, silently.
      await home.write(create("home"));
      await replica.write(create("secondary"));
      // Through the home table, the second region's create fails as in one region.
      await rejectsWith(home.write(create("secondary")), "ERR_CONDITION_FAILED");
      expect(await home.get({ pk: "transit/key", sk: "orders" })).toMatchObject({ value: "home" });
    });

    it("names the home region when it cannot be reached, and writes nothing", async () => {
      const tableName = `items-${++tables}`;
      const down = homeRegionStore(
        createDynamoDbStore({
          client: regional(moto.region, `http://127.0.0.1:${await freePort()}`),
          tableName,
        }),
        moto.region,
      );
      const refused = down.write([{ op: "put", item: { pk: "p", sk: "s" }, condition: { exists: false } }]);
      await rejectsWith(refused, "ERR_UPSTREAM_UNAVAILABLE");
      await expect(refused).rejects.toThrow(`the home region (${moto.region}) cannot be reached`);
      await rejectsWith(down.get({ pk: "p", sk: "s" }), "ERR_UPSTREAM_UNAVAILABLE");
    });
  });

  it("creates a table idempotently, with TTL on the housekeeping attribute", async () => {
    const tableName = `items-${++tables}`;
    await createTable(client, tableName);
    await createTable(client, tableName);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: "ENABLED",
      AttributeName: TTL_ATTRIBUTE,
    });
  });
});
