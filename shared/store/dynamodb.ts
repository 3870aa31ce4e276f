/**
 * The production ItemStore: one DynamoDB table keyed by pk (S) and sk (S).
 *
 * Attribute values are converted here rather than with @aws-sdk/util-dynamodb, whose
 * marshall and unmarshall build maps by plain assignment and so silently drop a
 * user-controlled "__proto__" key.
 */
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type AttributeValue as DynamoValue,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { type AwsSdkError, awsFailureKind } from "../aws-errors.ts";
import { compareBytes, fromBase64Url, toBase64Url } from "../crypto/encoding.ts";
import { CofferError, invalidRequest } from "../errors.ts";
import { checkKey, checkQuery, checkWrite, conditionFailed, isPlainObject, keyId } from "./item-size.ts";
import type {
  AttributeValue,
  Condition,
  Item,
  ItemKey,
  ItemStore,
  QueryPage,
  WriteOp,
} from "./item-store.ts";
import { TTL_ATTRIBUTE } from "./ttl.ts";

export { TTL_ATTRIBUTE };

type DynamoItem = Record<string, DynamoValue>;

const utf8 = new TextEncoder();

const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 6;
const CONFLICT_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 25;
const BACKOFF_CAP_MS = 1000;

const THROTTLING_REASONS = new Set([
  "ThrottlingError",
  "ProvisionedThroughputExceeded",
  "RequestLimitExceeded",
]);

export function createDynamoDbStore(options: { client: DynamoDBClient; tableName: string }): ItemStore {
  const { client, tableName: TableName } = options;

  const fetchChunk = async (keys: ItemKey[], found: Map<string, Item>) => {
    let pending: DynamoItem[] = keys.map(toKey);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) {
        // Unprocessed keys mean DynamoDB shed load: backing off is what it asks for.
        if (attempt > BATCH_GET_ATTEMPTS) throw upstream("DynamoDB left keys unprocessed");
        await backoff(attempt);
      }
      const output = await call(() =>
        client.send(
          new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: pending, ConsistentRead: true } } }),
        ),
      );
      for (const record of output.Responses?.[TableName] ?? []) {
        const item = fromRecord(record);
        found.set(keyId(item), item);
      }
      pending = output.UnprocessedKeys?.[TableName]?.Keys ?? [];
    }
  };

  // A single put or delete carries its condition itself, at half a transaction's cost.
  const writeOne = (op: Exclude<WriteOp, { op: "check" }>) =>
    op.op === "put"
      ? client.send(
          new PutItemCommand({
            TableName,
            Item: toRecord(op.item),
            ...(op.condition && conditionExpression(op.condition)),
          }),
        )
      : client.send(
          new DeleteItemCommand({
            TableName,
            Key: toKey(op.key),
            ...(op.condition && conditionExpression(op.condition)),
          }),
        );

  const transact = (ops: readonly WriteOp[]) =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: ops.map((op): TransactWriteItem => {
          if (op.op === "check") {
            return {
              ConditionCheck: { TableName, Key: toKey(op.key), ...conditionExpression(op.condition) },
            };
          }
          const condition = op.condition && conditionExpression(op.condition);
          if (op.op === "put") return { Put: { TableName, Item: toRecord(op.item), ...condition } };
          return { Delete: { TableName, Key: toKey(op.key), ...condition } };
        }),
      }),
    );

  return {
    async get(key) {
      checkKey(key);
      const output = await call(() =>
        client.send(new GetItemCommand({ TableName, Key: toKey(key), ConsistentRead: true })),
      );
      return output.Item && fromRecord(output.Item);
    },

    async batchGet(keys) {
      keys.forEach(checkKey);
      const unique = [...new Map(keys.map((key) => [keyId(key), { pk: key.pk, sk: key.sk }])).values()];
      const found = new Map<string, Item>();
      const chunks: ItemKey[][] = [];
      for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
        chunks.push(unique.slice(start, start + BATCH_GET_KEYS));
      }
      await Promise.all(chunks.map((chunk) => fetchChunk(chunk, found)));
      return keys.map((key) => found.get(keyId(key)));
    },

    async query(input): Promise<QueryPage> {
      checkQuery(input);
      // DynamoDB refuses empty strings and inverted ranges in a key condition; both are
      // answered here the way a plain comparison answers them.
      const { prefix, from, to } = input;
      if (to === "" || (from && to && compareBytes(utf8.encode(from), utf8.encode(to)) > 0)) {
        return { items: [] };
      }
      const values: DynamoItem = { ":pk": { S: input.pk } };
      const conditions = ["#pk = :pk"];
      if (prefix) {
        conditions.push("begins_with(#sk, :prefix)");
        values[":prefix"] = { S: prefix };
      }
      if (from) values[":from"] = { S: from };
      if (to) values[":to"] = { S: to };
      if (from && to) conditions.push("#sk BETWEEN :from AND :to");
      else if (from) conditions.push("#sk >= :from");
      else if (to) conditions.push("#sk <= :to");
      // DynamoDB refuses a name the expression does not use.
      const names: Record<string, string> =
        conditions.length > 1 ? { "#pk": "pk", "#sk": "sk" } : { "#pk": "pk" };
      const start = input.cursor === undefined ? undefined : decodeCursor(input.cursor, input.pk);

      const output = await call(() =>
        client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: conditions.join(" AND "),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: !input.descending,
            Limit: input.limit,
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      const items = (output.Items ?? []).map(fromRecord);
      const last = output.LastEvaluatedKey;
      return last ? { items, cursor: encodeCursor(last) } : { items };
    },

    async write(ops) {
      checkWrite(ops);
      const [only] = ops;
      if (only === undefined) return;
      const send = ops.length === 1 && only.op !== "check" ? () => writeOne(only) : () => transact(ops);
      for (let attempt = 1; ; attempt++) {
        try {
          await send();
          return;
        } catch (error) {
          if (!isConflict(error)) throw translate(error);
          if (attempt === CONFLICT_ATTEMPTS) throw upstream("DynamoDB kept reporting a conflict", error);
          await backoff(attempt);
        }
      }
    },

    /** The client belongs to the caller, who may share it. */
    async close() {},
  };
}

/**
 * Creates the table (pk S, sk S, on demand) with TTL on {@link TTL_ATTRIBUTE}, and waits
 * until it is ACTIVE. Does nothing to a table that already exists but turn TTL on.
 */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown }).name !== "ResourceInUseException") throw error;
  }
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 5, maxWaitTime: 300 },
    { TableName: tableName },
  );
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === "ENABLED" || status === "ENABLING") return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
}

interface ConditionExpression {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: DynamoItem;
}

function conditionExpression(condition: Condition): ConditionExpression {
  if ("exists" in condition) {
    return {
      ConditionExpression: condition.exists ? "attribute_exists(#pk)" : "attribute_not_exists(#pk)",
      ExpressionAttributeNames: { "#pk": "pk" },
    };
  }
  return {
    ConditionExpression: "#a = :v",
    ExpressionAttributeNames: { "#a": condition.attribute },
    ExpressionAttributeValues: { ":v": toValue(condition.equals) },
  };
}

function encodeCursor(key: DynamoItem): string {
  return toBase64Url(utf8.encode(JSON.stringify({ pk: key.pk?.S, sk: key.sk?.S })));
}

function decodeCursor(cursor: string, pk: string): DynamoItem {
  let key: unknown;
  try {
    key = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor)));
  } catch {
    key = undefined;
  }
  const { pk: cursorPk, sk } = (key ?? {}) as { pk?: unknown; sk?: unknown };
  if (cursorPk !== pk || typeof sk !== "string" || sk === "") {
    throw invalidRequest("the cursor is not one this store returned for this query");
  }
  return toKey({ pk, sk });
}

const toKey = (key: ItemKey): DynamoItem => ({ pk: { S: key.pk }, sk: { S: key.sk } });

function toRecord(map: Record<string, unknown>): DynamoItem {
  // Object.fromEntries defines own properties, so a "__proto__" key stays an ordinary key.
  return Object.fromEntries(
    Object.entries(map)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, toValue(value)]),
  );
}

function toValue(value: unknown): DynamoValue {
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (value === null) return { NULL: true };
  if (value instanceof Uint8Array) return { B: value };
  if (Array.isArray(value)) return { L: value.filter((element) => element !== undefined).map(toValue) };
  if (isPlainObject(value)) return { M: toRecord(value) };
  // checkWrite refuses these before a write gets here.
  throw new Error(`unstorable ${typeof value}`);
}

/** An item as the SDK returned it, as the broker sees it. */
export const fromRecord = (record: DynamoItem): Item =>
  Object.fromEntries(Object.entries(record).map(([name, value]) => [name, fromValue(value)])) as Item;

function fromValue(value: DynamoValue): AttributeValue {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  // Some SDK versions hand back a Node Buffer; callers always get a plain Uint8Array.
  if (value.B !== undefined)
    return Object.getPrototypeOf(value.B) === Uint8Array.prototype ? value.B : new Uint8Array(value.B);
  if (value.L !== undefined) return value.L.map(fromValue);
  if (value.M !== undefined) return fromRecord(value.M);
  throw new CofferError(
    "ERR_INTERNAL",
    `an attribute of a type Coffer never writes: ${Object.keys(value).join()}`,
  );
}

async function call<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw translate(error);
  }
}

interface SdkError extends AwsSdkError {
  CancellationReasons?: { Code?: string; Message?: string }[];
}

/** Reasons for a cancelled transaction, from the structured list or, failing that, its message. */
function cancellationReasons(error: SdkError): { code: string; message: string }[] {
  if (error.CancellationReasons) {
    return error.CancellationReasons.map((reason) => ({
      code: reason.Code ?? "",
      message: reason.Message ?? "",
    }));
  }
  const listed = /\[([^\]]*)\]\s*$/.exec(error.message ?? "")?.[1] ?? "";
  return listed.split(",").map((code) => ({ code: code.trim(), message: "" }));
}

function isConflict(caught: unknown): boolean {
  const error = caught as SdkError;
  if (error?.name === "TransactionConflictException") return true;
  if (error?.name !== "TransactionCanceledException") return false;
  const codes = cancellationReasons(error).map((reason) => reason.code);
  return codes.includes("TransactionConflict") && !codes.includes("ConditionalCheckFailed");
}

function translate(caught: unknown): unknown {
  if (caught instanceof CofferError || typeof caught !== "object" || caught === null) return caught;
  const error = caught as SdkError;
  const name = error.name ?? "";
  if (name === "ConditionalCheckFailedException") return conditionFailed(caught);
  if (name === "TransactionCanceledException") {
    const reasons = cancellationReasons(error);
    if (reasons.some((reason) => reason.code === "ConditionalCheckFailed")) return conditionFailed(caught);
    if (reasons.some((reason) => THROTTLING_REASONS.has(reason.code)))
      return upstream("DynamoDB throttled", caught);
    if (reasons.some((reason) => isSizeMessage(reason.message))) return tooLarge(caught);
    return caught;
  }
  if (name === "ValidationException" && isSizeMessage(error.message)) return tooLarge(caught);
  switch (awsFailureKind(caught)) {
    case "throttling":
      return upstream("DynamoDB throttled", caught);
    case "server":
      return upstream("DynamoDB failed", caught);
    case "unreachable":
      return upstream("DynamoDB could not be reached", caught);
    default:
      return caught;
  }
}

const isSizeMessage = (message: string | undefined) => /item size/i.test(message ?? "");

const tooLarge = (cause: unknown) =>
  new CofferError("ERR_PAYLOAD_TOO_LARGE", "the item is over DynamoDB's size limit", [], { cause });

const upstream = (message: string, cause?: unknown) =>
  new CofferError("ERR_UPSTREAM_UNAVAILABLE", message, [], { cause });

/** Full jitter: a random wait up to an exponentially growing, capped ceiling. */
const backoff = (attempt: number) =>
  new Promise((resolve) =>
    setTimeout(resolve, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt)),
  );
