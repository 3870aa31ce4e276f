/**
 * How the DynamoDB adapter reports DynamoDB failing: a real DynamoDBClient talks to a fake
 * endpoint that throttles, fails or cancels on demand (moto cannot be made to).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { createDynamoDbStore } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import {
  dynamoError,
  type FakeDynamoDb,
  type FakeRequest,
  type FakeResponse,
  startFakeDynamoDb,
} from "../support/fake-dynamodb.ts";

const TABLE = "items";
const key = { pk: "p", sk: "s" };
const OK: FakeResponse = { status: 200, body: {} };

let fake: FakeDynamoDb | undefined;
let client: DynamoDBClient | undefined;

afterEach(async () => {
  client?.destroy();
  await fake?.close();
  fake = undefined;
  client = undefined;
});

async function storeAnswering(
  respond: (request: FakeRequest, index: number) => FakeResponse,
): Promise<ItemStore> {
  fake = await startFakeDynamoDb(respond);
  client = new DynamoDBClient({
    endpoint: fake.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "fake", secretAccessKey: "fake" },
    maxAttempts: 2,
  });
  return createDynamoDbStore({ client, tableName: TABLE });
}

const calls: [string, (store: ItemStore) => Promise<unknown>][] = [
  ["get", (store) => store.get(key)],
  ["batchGet", (store) => store.batchGet([key])],
  ["query", (store) => store.query({ pk: "p", prefix: "s" })],
  ["a single put", (store) => store.write([{ op: "put", item: key, condition: { exists: false } }])],
  ["a single delete", (store) => store.write([{ op: "delete", key }])],
  [
    "a transaction",
    (store) =>
      store.write([
        { op: "put", item: key },
        { op: "check", key: { pk: "p", sk: "t" }, condition: { exists: true } },
      ]),
  ],
];

const cancelled = (...codes: string[]) =>
  dynamoError(
    "TransactionCanceledException",
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(", ")}]`,
    {
      CancellationReasons: codes.map((Code) => ({ Code })),
    },
  );

describe("DynamoDB throttled or failing", () => {
  it.each(calls)(
    "%s raises ERR_UPSTREAM_UNAVAILABLE once the SDK's retries run out of throttling",
    async (_, call) => {
      const store = await storeAnswering(() =>
        dynamoError(
          "ProvisionedThroughputExceededException",
          "The level of configured provisioned throughput for the table was exceeded.",
        ),
      );
      const error = await call(store).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: "CofferError", code: "ERR_UPSTREAM_UNAVAILABLE" });
      expect((error as Error).cause).toMatchObject({ name: "ProvisionedThroughputExceededException" });
      expect(fake?.requests).toHaveLength(2);
    },
  );

  it.each([
    [
      "ThrottlingException",
      dynamoError("ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    ],
    [
      "RequestLimitExceeded",
      dynamoError("RequestLimitExceeded", "Throughput exceeds the current throughput limit."),
    ],
    ["InternalServerError", dynamoError("InternalServerError", "Internal server error", {}, 500)],
    ["a bare 500", { status: 500 }],
    ["a bare 503", { status: 503, body: { message: "Service Unavailable" } }],
  ] as [string, FakeResponse][])("%s raises ERR_UPSTREAM_UNAVAILABLE", async (_, response) => {
    const store = await storeAnswering(() => response);
    await expect(store.get(key)).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
    await expect(store.write([{ op: "put", item: key }])).rejects.toMatchObject({
      code: "ERR_UPSTREAM_UNAVAILABLE",
    });
  });

  it("raises ERR_UPSTREAM_UNAVAILABLE when nothing listens", async () => {
    const store = await storeAnswering(() => OK);
    await fake?.close();
    await expect(store.get(key)).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
  });

  it("recovers when throttling stops within the SDK's retries", async () => {
    const store = await storeAnswering((_, index) =>
      index === 0
        ? dynamoError("ThrottlingException", "slow down")
        : { status: 200, body: { Item: { pk: { S: "p" }, sk: { S: "s" } } } },
    );
    expect(await store.get(key)).toEqual(key);
  });
});

describe("cancelled transactions", () => {
  it("maps a failed condition to ERR_CONDITION_FAILED without retrying", async () => {
    const store = await storeAnswering(() => cancelled("None", "ConditionalCheckFailed"));
    await expect(calls[5]![1](store)).rejects.toMatchObject({ code: "ERR_CONDITION_FAILED" });
    expect(fake?.requests).toHaveLength(1);
  });

  it("reads the reasons from the message when the structured list is missing", async () => {
    const store = await storeAnswering(() =>
      dynamoError(
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]",
      ),
    );
    await expect(calls[5]![1](store)).rejects.toMatchObject({ code: "ERR_CONDITION_FAILED" });
  });

  it("retries a conflicting transaction, then succeeds", async () => {
    const store = await storeAnswering((_, index) =>
      index < 2 ? cancelled("TransactionConflict", "None") : OK,
    );
    await calls[5]![1](store);
    expect(fake?.requests.map((request) => request.operation)).toEqual([
      "TransactWriteItems",
      "TransactWriteItems",
      "TransactWriteItems",
    ]);
  });

  it("retries a single write that met a transaction in progress", async () => {
    const store = await storeAnswering((_, index) =>
      index === 0 ? dynamoError("TransactionConflictException", "Transaction is ongoing for the item") : OK,
    );
    await store.write([{ op: "put", item: key }]);
    expect(fake?.requests).toHaveLength(2);
  });

  it("gives up on a conflict that never clears with ERR_UPSTREAM_UNAVAILABLE", async () => {
    const store = await storeAnswering(() => cancelled("None", "TransactionConflict"));
    await expect(calls[5]![1](store)).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
    expect(fake?.requests.length).toBeGreaterThan(2);
  });

  it("maps throttled transaction items to ERR_UPSTREAM_UNAVAILABLE", async () => {
    const store = await storeAnswering(() => cancelled("ThrottlingError", "None"));
    await expect(calls[5]![1](store)).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
  });
});

describe("other refusals", () => {
  it("maps DynamoDB's item size refusal to ERR_PAYLOAD_TOO_LARGE", async () => {
    const store = await storeAnswering(() =>
      dynamoError("ValidationException", "Item size has exceeded the maximum allowed size"),
    );
    await expect(store.write([{ op: "put", item: key }])).rejects.toMatchObject({
      code: "ERR_PAYLOAD_TOO_LARGE",
    });
  });

  it("lets any other validation error through unchanged", async () => {
    const store = await storeAnswering(() =>
      dynamoError("ValidationException", "One or more parameter values were invalid"),
    );
    const error = await store.get(key).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "ValidationException" });
  });

  it("never sends an item over the size limit", async () => {
    const store = await storeAnswering(() => OK);
    await expect(
      store.write([{ op: "put", item: { ...key, blob: "x".repeat(410_000) } }]),
    ).rejects.toMatchObject({
      code: "ERR_PAYLOAD_TOO_LARGE",
    });
    expect(fake?.requests).toHaveLength(0);
  });
});

describe("batchGet", () => {
  const record = (sk: string) => ({ pk: { S: "p" }, sk: { S: sk }, n: { N: "1" } });

  it("retries unprocessed keys and answers in the order asked", async () => {
    const store = await storeAnswering((request, index) => {
      const asked = (request.body.RequestItems as Record<string, { Keys: unknown[] }>)[TABLE]!.Keys;
      return index === 0
        ? {
            status: 200,
            body: {
              Responses: { [TABLE]: [record("b")] },
              UnprocessedKeys: { [TABLE]: { Keys: asked.slice(0, 1) } },
            },
          }
        : { status: 200, body: { Responses: { [TABLE]: [record("a")] }, UnprocessedKeys: {} } };
    });
    const got = await store.batchGet([
      { pk: "p", sk: "a" },
      { pk: "p", sk: "b" },
      { pk: "p", sk: "a" },
    ]);
    expect(got.map((item) => item?.sk)).toEqual(["a", "b", "a"]);
    expect(fake?.requests).toHaveLength(2);
    // Keys are asked for once each, however often the caller repeats them.
    expect(fake?.requests[0]?.body).toMatchObject({
      RequestItems: {
        [TABLE]: {
          Keys: [
            { pk: { S: "p" }, sk: { S: "a" } },
            { pk: { S: "p" }, sk: { S: "b" } },
          ],
          ConsistentRead: true,
        },
      },
    });
  });

  it("raises ERR_UPSTREAM_UNAVAILABLE when keys stay unprocessed", async () => {
    const store = await storeAnswering((request) => ({
      status: 200,
      body: { Responses: { [TABLE]: [] }, UnprocessedKeys: request.body.RequestItems },
    }));
    await expect(store.batchGet([key])).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
  });
});
