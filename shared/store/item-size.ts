/**
 * DynamoDB's limits on items, keys and writes. Every adapter checks them before it touches
 * storage, so the embedded store refuses exactly what production would, with the same
 * error, and a DynamoDB round trip is never spent on a request it would reject.
 */
import { CofferError, invalidRequest, payloadTooLarge } from "../errors.ts";
import { type Item, type ItemKey, MAX_WRITE_OPS, type QueryInput, type WriteOp } from "./item-store.ts";

/** DynamoDB's item size limit, counted as {@link itemSize} counts. */
export const MAX_ITEM_BYTES = 400 * 1024;

const MAX_PK_BYTES = 2048;
const MAX_SK_BYTES = 1024;
// DynamoDB holds magnitudes 1e-130..1e126, but integers past 2^53 stop round-tripping
// through a JavaScript number (the SDK's own codec turns them into BigInt), so they are refused.
const MIN_MAGNITUDE = 1e-130;

/**
 * The UTF-8 length of `text`, counted without encoding it: every write is sized twice (the
 * authenticated store and the adapter check it), and encoding each name and string to
 * measure it was most of that. A lone surrogate counts 3 bytes, as U+FFFD replaces it.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && unit >= 0xd800 && next >= 0xdc00 && next <= 0xdfff) {
      // A surrogate pair: two code units, four bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * The size of an item as DynamoDB bills and limits it: each attribute name's UTF-8 length
 * plus its value's size. Throws ERR_INVALID_REQUEST for a value no adapter can store
 * (a non-finite or imprecise number, a class instance, a function).
 */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    if (name === "") throw invalidRequest("an attribute name must not be empty");
    size += utf8Length(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === "string") return utf8Length(value);
  if (typeof value === "number") return numberSize(value);
  if (typeof value === "boolean" || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) {
    let size = 3;
    for (const element of value) if (element !== undefined) size += 1 + valueSize(element);
    return size;
  }
  if (isPlainObject(value)) {
    let size = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element !== undefined) size += 1 + utf8Length(name) + valueSize(element);
    }
    return size;
  }
  throw invalidRequest(`an attribute value of type ${typeof value} cannot be stored`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function numberSize(value: number): number {
  checkNumber(value);
  // One byte per two significant digits plus one, leading and trailing zeros trimmed.
  if (Number.isSafeInteger(value)) {
    // Integers (times, revisions, counts) without formatting them: the common case.
    let rest = Math.abs(value);
    if (rest === 0) return 2;
    while (rest % 10 === 0) rest /= 10;
    let digits = 1;
    while (rest >= 10) {
      rest = Math.floor(rest / 10);
      digits++;
    }
    return Math.ceil(digits / 2) + 1;
  }
  const mantissa = Math.abs(value).toExponential().split("e")[0]!.replace(".", "");
  const digits = mantissa.replace(/0+$/, "").length || 1;
  return Math.ceil(digits / 2) + 1;
}

function checkNumber(value: number): void {
  const magnitude = Math.abs(value);
  if (
    !Number.isFinite(value) ||
    magnitude > Number.MAX_SAFE_INTEGER ||
    (value !== 0 && magnitude < MIN_MAGNITUDE)
  ) {
    throw invalidRequest(`the number ${value} cannot be stored exactly`);
  }
}

/** A key must be two non-empty strings within DynamoDB's key size limits. */
export function checkKey(key: ItemKey): void {
  const { pk, sk } = key;
  if (typeof pk !== "string" || pk === "" || utf8Length(pk) > MAX_PK_BYTES) {
    throw invalidRequest(`a partition key must be a string of 1 to ${MAX_PK_BYTES} bytes`);
  }
  if (typeof sk !== "string" || sk === "" || utf8Length(sk) > MAX_SK_BYTES) {
    throw invalidRequest(`a sort key must be a string of 1 to ${MAX_SK_BYTES} bytes`);
  }
}

/** The identity of a key, for deduplication. */
export const keyId = (key: ItemKey) => JSON.stringify([key.pk, key.sk]);

/**
 * Everything about a write that can be refused without reading storage: too many
 * operations, two on one item, bad keys or conditions, unstorable or oversized items.
 */
export function checkWrite(ops: readonly WriteOp[]): void {
  if (ops.length > MAX_WRITE_OPS) {
    throw invalidRequest(`a write takes at most ${MAX_WRITE_OPS} operations, not ${ops.length}`);
  }
  const seen = new Set<string>();
  for (const op of ops) {
    const key = op.op === "put" ? op.item : op.key;
    checkKey(key);
    const id = keyId(key);
    if (seen.has(id)) throw invalidRequest(`two operations in one write on the item ${id}`);
    seen.add(id);
    if (op.condition && "attribute" in op.condition) {
      const { attribute, equals } = op.condition;
      if (typeof attribute !== "string" || attribute === "")
        throw invalidRequest("a condition needs an attribute");
      if (typeof equals === "number") checkNumber(equals);
      else if (typeof equals !== "string" && typeof equals !== "boolean") {
        throw invalidRequest("a condition compares with a string, a number or a boolean");
      }
    }
    if (op.op === "put") {
      const size = itemSize(op.item);
      if (size > MAX_ITEM_BYTES) {
        throw payloadTooLarge(`an item of ${size} bytes is over the ${MAX_ITEM_BYTES} byte limit`);
      }
    }
  }
}

/** The parts of a query that can be refused without reading storage. */
export function checkQuery(input: QueryInput): void {
  if (typeof input.pk !== "string" || input.pk === "") throw invalidRequest("a query needs a partition key");
  if (input.prefix !== undefined && (input.from !== undefined || input.to !== undefined)) {
    throw invalidRequest("a query takes a prefix or a range, not both");
  }
  if (input.limit !== undefined && !(Number.isSafeInteger(input.limit) && input.limit > 0)) {
    throw invalidRequest("a query limit must be a positive integer");
  }
}

export const conditionFailed = (cause?: unknown) =>
  new CofferError("ERR_CONDITION_FAILED", "a condition of the write does not hold", [], { cause });
