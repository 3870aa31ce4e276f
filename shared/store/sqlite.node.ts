/**
 * The embedded ItemStore: one SQLite file (better-sqlite3), the default for `coffer dev`.
 * Node only, and kept out of the Lambda bundles.
 *
 * Attributes are stored as JSON in DynamoDB's typed shape ({S}, {N}, {B: base64}, {BOOL},
 * {NULL}, {L}, {M}), so a user's map key can never pass for a type tag and binary values
 * come back as binary.
 */
import Database from "better-sqlite3";
import { CofferError, invalidRequest } from "../errors.ts";
import { checkKey, checkQuery, checkWrite, conditionFailed, isPlainObject } from "./item-size.ts";
import type {
  AttributeValue,
  Condition,
  Item,
  ItemKey,
  ItemScanner,
  ItemStore,
  QueryInput,
  QueryPage,
  WriteOp,
} from "./item-store.ts";

// A CLI command may hold the write lock while the dev server wants it, or the reverse.
const BUSY_TIMEOUT_MS = 5000;
// Pages stop near DynamoDB's 1 MB, so code that forgets to follow cursors fails here too.
const MAX_PAGE_BYTES = 1024 * 1024;

type Encoded =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: Encoded[] }
  | { M: Record<string, Encoded> };

export function openSqliteStore(options: { path: string }): ItemStore & ItemScanner {
  const db = new Database(options.path, { timeout: BUSY_TIMEOUT_MS });
  db.pragma("journal_mode = WAL");
  db.exec(
    "CREATE TABLE IF NOT EXISTS items (pk TEXT NOT NULL, sk TEXT NOT NULL, attrs TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID",
  );
  const selectOne = db.prepare<[string, string], { attrs: string }>(
    "SELECT attrs FROM items WHERE pk = ? AND sk = ?",
  );
  const upsert = db.prepare<[string, string, string]>(
    "INSERT INTO items (pk, sk, attrs) VALUES (?, ?, ?) ON CONFLICT (pk, sk) DO UPDATE SET attrs = excluded.attrs",
  );
  const remove = db.prepare<[string, string]>("DELETE FROM items WHERE pk = ? AND sk = ?");
  const scanFrom = db.prepare<{ pk: string; sk: string }, { pk: string; sk: string; attrs: string }>(
    "SELECT pk, sk, attrs FROM items WHERE pk > @pk OR (pk = @pk AND sk > @sk) ORDER BY pk, sk",
  );
  const queries = new Map<
    string,
    Database.Statement<Record<string, string>, { sk: string; attrs: string }>
  >();

  const read = (key: ItemKey): Item | undefined => {
    const row = selectOne.get(key.pk, key.sk);
    return row && decodeItem(key, row.attrs);
  };
  // A read transaction, so a batch sees one snapshot.
  const readMany = db.transaction((keys: readonly ItemKey[]) => keys.map(read));
  const apply = db.transaction((ops: readonly WriteOp[]) => {
    for (const op of ops) {
      if (op.condition && !holds(op.condition, read(op.op === "put" ? op.item : op.key))) {
        throw conditionFailed();
      }
    }
    for (const op of ops) {
      if (op.op === "put") upsert.run(op.item.pk, op.item.sk, encodeAttributes(op.item));
      else if (op.op === "delete") remove.run(op.key.pk, op.key.sk);
    }
  });

  const statementFor = (input: QueryInput) => {
    const where = ["pk = @pk"];
    // Exact byte prefix: every UTF-8 string starting with the prefix sorts below the prefix
    // followed by the byte 0xFF, which no UTF-8 text contains. LIKE would treat % and _ as
    // wildcards.
    if (input.prefix !== undefined) where.push("sk >= @prefix", "sk < (@prefix || x'ff')");
    if (input.from !== undefined) where.push("sk >= @from");
    if (input.to !== undefined) where.push("sk <= @to");
    if (input.cursor !== undefined) where.push(input.descending ? "sk < @after" : "sk > @after");
    const sql = `SELECT sk, attrs FROM items WHERE ${where.join(" AND ")} ORDER BY sk ${input.descending ? "DESC" : "ASC"}`;
    let statement = queries.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      queries.set(sql, statement);
    }
    return statement;
  };

  return {
    async get(key) {
      checkKey(key);
      return guard(() => read(key));
    },
    async batchGet(keys) {
      keys.forEach(checkKey);
      return guard(() => readMany(keys));
    },
    async query(input): Promise<QueryPage> {
      checkQuery(input);
      const params: Record<string, string> = { pk: input.pk };
      if (input.prefix !== undefined) params.prefix = input.prefix;
      if (input.from !== undefined) params.from = input.from;
      if (input.to !== undefined) params.to = input.to;
      if (input.cursor !== undefined) params.after = decodeCursor(input.cursor);
      const limit = input.limit ?? Number.POSITIVE_INFINITY;
      return guard(() => {
        const items: Item[] = [];
        let bytes = 0;
        for (const row of statementFor(input).iterate(params)) {
          if (items.length >= limit || bytes >= MAX_PAGE_BYTES) {
            // Leaving the loop early resets the statement.
            const last = items.at(-1)!;
            return { items, cursor: Buffer.from(last.sk, "utf8").toString("base64url") };
          }
          items.push(decodeItem({ pk: input.pk, sk: row.sk }, row.attrs));
          bytes += row.sk.length + row.attrs.length;
        }
        return { items };
      });
    },
    async scan(input) {
      const after = input.cursor === undefined ? { pk: "", sk: "" } : decodeScanCursor(input.cursor);
      const limit = input.limit ?? Number.POSITIVE_INFINITY;
      return guard(() => {
        const items: Item[] = [];
        for (const row of scanFrom.iterate(after)) {
          if (items.length >= limit) {
            const last = items.at(-1)!;
            return { items, cursor: Buffer.from(JSON.stringify([last.pk, last.sk])).toString("base64url") };
          }
          items.push(decodeItem({ pk: row.pk, sk: row.sk }, row.attrs));
        }
        return { items };
      });
    },
    async write(ops) {
      checkWrite(ops);
      if (ops.length === 0) return;
      guard(() => apply.immediate(ops));
    },
    async close() {
      db.close();
    },
  };
}

function decodeScanCursor(cursor: string): { pk: string; sk: string } {
  try {
    const [pk, sk] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof pk === "string" && typeof sk === "string") return { pk, sk };
  } catch {
    // Reported below.
  }
  throw invalidRequest("the cursor is not one this store returned for a scan");
}

/** A busy or locked database after the timeout is the embedded form of "upstream unavailable". */
function guard<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) {
      throw new CofferError("ERR_UPSTREAM_UNAVAILABLE", "the database is busy", [], { cause: error });
    }
    throw error;
  }
}

function holds(condition: Condition, current: Item | undefined): boolean {
  if ("exists" in condition) return (current !== undefined) === condition.exists;
  return current !== undefined && current[condition.attribute] === condition.equals;
}

function decodeCursor(cursor: string): string {
  const sk = Buffer.from(cursor, "base64url").toString("utf8");
  if (sk === "" || Buffer.from(sk, "utf8").toString("base64url") !== cursor) {
    throw invalidRequest("the cursor is not one this store returned");
  }
  return sk;
}

function encodeAttributes(item: Item): string {
  const { pk: _pk, sk: _sk, ...attributes } = item;
  return JSON.stringify(encodeMap(attributes));
}

function decodeItem(key: ItemKey, attrs: string): Item {
  const attributes = decodeMap(JSON.parse(attrs) as Record<string, Encoded>);
  return { ...attributes, pk: key.pk, sk: key.sk };
}

// Object.fromEntries defines own properties, so a "__proto__" key stays an ordinary key.
function encodeMap(map: Record<string, unknown>): Record<string, Encoded> {
  return Object.fromEntries(
    Object.entries(map)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, encode(value)]),
  );
}

function decodeMap(map: Record<string, Encoded>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(map).map(([name, value]) => [name, decode(value)]));
}

function encode(value: unknown): Encoded {
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (value === null) return { NULL: true };
  if (value instanceof Uint8Array) {
    return { B: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (Array.isArray(value)) return { L: value.filter((element) => element !== undefined).map(encode) };
  if (isPlainObject(value)) return { M: encodeMap(value) };
  // checkWrite refuses these before a write gets here.
  throw new Error(`unstorable ${typeof value}`);
}

function decode(value: Encoded): AttributeValue {
  if ("S" in value) return value.S;
  if ("N" in value) return Number(value.N);
  if ("BOOL" in value) return value.BOOL;
  if ("NULL" in value) return null;
  if ("B" in value) return new Uint8Array(Buffer.from(value.B, "base64"));
  if ("L" in value) return value.L.map(decode);
  return decodeMap(value.M);
}
