/**
 * The CPU time a store call costs the calling process, by kind: on SQLite the whole call,
 * through the DynamoDB adapter the client's share — the AWS SDK marshalling, signing,
 * HTTP and parsing — against an endpoint in another process that answers at once
 * (dynamodb-echo.ts; moto would add a TCP handshake per call and its own CPU on a shared
 * machine). The latency model runs SQLite's calls, so a function's CPU time on DynamoDB
 * is its CPU time on the model plus, per call, the difference between the two. Calls run
 * one at a time, on items the size of a lease.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { awsRetryConfig } from "../../shared/aws-retry.ts";
import { createDynamoDbStore } from "../../shared/store/dynamodb.ts";
import type { Item, ItemStore } from "../../shared/store/item-store.ts";
import { forkScript, stopAll } from "./forked-script.ts";
import { cpuMs, round } from "./measure.ts";

export interface StoreCallCpu {
  store: string;
  calls: number;
  /** Milliseconds of CPU per call. */
  get: number;
  query: number;
  put: number;
  transaction: number;
  mean: number;
}

export async function benchStoreCallCpu(
  store: ItemStore,
  name: string,
  calls: number,
): Promise<StoreCallCpu> {
  const run = `bench-cpu/${crypto.randomUUID()}`;
  const item = (i: number): Item => ({
    pk: `${run}/${i % 10}`,
    sk: `lease/${i}`,
    payload: crypto.getRandomValues(new Uint8Array(400)),
    state: "active",
    revision: 1,
    expires_at: Date.now() + 3_600_000,
  });
  const perCall = async (operation: (i: number) => Promise<unknown>) => {
    const { cpuMs: cpu } = await cpuMs(async () => {
      for (let i = 0; i < calls; i++) await operation(i);
    });
    return round(cpu / calls, 3);
  };
  const put = await perCall((i) => store.write([{ op: "put", item: item(i) }]));
  const get = await perCall((i) => store.get(item(i)));
  const query = await perCall((i) => store.query({ pk: `${run}/${i % 10}`, descending: true, limit: 2 }));
  const transaction = await perCall((i) =>
    store.write([
      { op: "delete", key: item(i), condition: { attribute: "revision", equals: 1 } },
      { op: "put", item: item(i + calls) },
    ]),
  );
  return {
    store: name,
    calls,
    get,
    query,
    put,
    transaction,
    mean: round((get + query + put + transaction) / 4, 3),
  };
}

/** The DynamoDB adapter's own CPU per call, configured as the functions configure it. */
export async function benchDynamoDbClientCpu(calls: number): Promise<StoreCallCpu> {
  const echo = await forkScript("./dynamodb-echo.ts");
  try {
    const { endpoint } = echo.first as { endpoint: string };
    const client = new DynamoDBClient({
      region: "us-east-1",
      endpoint,
      credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
      ...awsRetryConfig(),
    });
    const store = createDynamoDbStore({ client, tableName: "coffer-bench-calls" });
    // The first calls load the SDK's code and open the connection: not what is measured.
    await benchStoreCallCpu(store, "warm-up", 200);
    const result = await benchStoreCallCpu(store, "dynamodb client (echo endpoint)", calls);
    client.destroy();
    return result;
  } finally {
    await stopAll([echo.child]);
  }
}
