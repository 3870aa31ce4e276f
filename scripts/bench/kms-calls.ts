/**
 * KMS calls, counted at the KMS client, per 1,000 warm reads, per cold start and per 1,000
 * writes, next to a baseline that decrypts a per-secret data key with KMS
 * on every read (the model of credstash and of SSM SecureString).
 */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";

/** Counts every command the client sends, by name. */
export function countCommands(client: KMSClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? "unknown";
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "coffer-bench-count" },
  );
  return counts;
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, n) => sum + n, 0);

export interface KmsCallsResult {
  perColdStart: number;
  per1000WarmReads: number;
  per1000Writes: number;
  baselinePer1000Reads: number;
  /** How many of each were made: the per-1,000 figures are scaled from these. */
  reads: number;
  writes: number;
}

/**
 * `makeBroker` builds a fresh broker (a cold start) over the same table and key, with a
 * KMS client whose calls land in `counts`.
 */
export async function benchKmsCalls(
  makeBroker: () => Promise<{ broker: Broker; counts: Map<string, number>; kms: KMSClient; keyId: string }>,
  rootToken: string,
  counts: { reads: number; writes: number },
): Promise<KmsCallsResult> {
  const per1000 = (calls: number, made: number) => Math.round((calls / made) * 1000);
  const headers = { "X-Vault-Token": rootToken };
  const { broker, counts: kmsCounts, kms, keyId } = await makeBroker();
  const app = createApp(broker, { logError: () => {} });
  const read = async () => {
    const response = await app.request("/v1/secret/data/bench/db", { headers });
    if (response.status !== 200) throw new Error(`read failed: ${response.status}`);
  };

  await read();
  const perColdStart = total(kmsCounts);
  kmsCounts.clear();
  for (let i = 0; i < counts.reads; i++) await read();
  const per1000WarmReads = per1000(total(kmsCounts), counts.reads);
  kmsCounts.clear();
  for (let i = 0; i < counts.writes; i++) {
    const response = await app.request(`/v1/secret/data/bench/write-${i % 50}`, {
      method: "POST",
      headers,
      body: JSON.stringify({ data: { value: String(i) } }),
    });
    if (response.status !== 200) throw new Error(`write failed: ${response.status}`);
  }
  const per1000Writes = per1000(total(kmsCounts), counts.writes);

  // The per-secret data key model: every read unwraps the secret's own key with KMS.
  const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
  kmsCounts.clear();
  for (let i = 0; i < counts.reads; i++)
    await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
  const baselinePer1000Reads = per1000(total(kmsCounts), counts.reads);

  return { perColdStart, per1000WarmReads, per1000Writes, baselinePer1000Reads, ...counts };
}
