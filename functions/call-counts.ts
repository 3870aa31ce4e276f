/**
 * How many round trips to DynamoDB and to KMS one API request made, for its metrics line
 * (functions/metrics.ts). Each client counts at the SDK's deserialize step, which runs once
 * per HTTP attempt: a retried call counts every round trip it took.
 *
 * The counts belong to the request whose work made the call, carried by AsyncLocalStorage
 * through every await the call descends from: a call that started outside any request
 * (the warm-up still unwrapping the keyring, a cache refill begun by an earlier request)
 * is counted for none, even when it completes while a request is being served.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";

export interface CallCounts {
  /** DynamoDB round trips. */
  store: number;
  kms: number;
}

const current = new AsyncLocalStorage<CallCounts>();

/** Runs `work` with counts of its own, which it returns beside the result. */
export async function countingCalls<T>(work: () => Promise<T>): Promise<{ result: T; counts: CallCounts }> {
  const counts: CallCounts = { store: 0, kms: 0 };
  const result = await current.run(counts, work);
  // A copy: calls of this request that finish after it is answered are not added afterwards.
  return { result, counts: { ...counts } };
}

/** The same client, its every round trip counted for the request that made it. */
export function countedClient<Client extends DynamoDBClient | KMSClient>(
  client: Client,
  service: keyof CallCounts,
): Client {
  // Every SDK client has the same stack; its types differ only in each service's commands.
  (client.middlewareStack as DynamoDBClient["middlewareStack"]).add(
    (next) => (args) => {
      const counts = current.getStore();
      if (counts) counts[service]++;
      return next(args);
    },
    // Override: a client given to two brokers (this region's and the home region's) counts once.
    { step: "deserialize", name: `coffer-count-${service}-calls`, override: true },
  );
  return client;
}
