/**
 * Section 1: a warm authenticated KV read through the real app in-process (token check,
 * policy, store read, MAC check, decrypt, envelope, audit record), interleaved in rounds
 * with its baselines over the same store: the bare-Hono app (same query, one decryption,
 * Vault's JSON), decrypting with node:crypto as the broker now does on Node and through
 * Web Crypto as it did before, and, on SQLite, the synchronous floor (same query,
 * node:crypto, no HTTP). A token bound to a policy runs next to the root token, which skips the
 * policy check. The baselines read the raw store: verifying each item's MAC is the
 * broker's work, not the store's.
 */
import type { Hono } from "hono";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { createBareKvApp } from "./bare-hono.ts";
import { baselineEnvelope, decryptWithNodeCrypto, decryptWithWebCrypto } from "./baseline-envelope.ts";
import { BENCH_SECRET, type KvFixture, SECRET_URL } from "./kv-fixture.ts";
import { interleavedRounds, median, type Ratio, ratioOf, round, type Variant } from "./measure.ts";
import type { SyncKvRead } from "./sync-kv-read.ts";

export interface KvReadResult {
  store: string;
  rounds: number;
  iterations: number;
  /** Median over the rounds of each round's p50 and p99, per variant. */
  p50Ms: Record<string, number>;
  p99Ms: Record<string, number>;
  /** Per-round ratios of p50s; bare Hono decrypts with node:crypto. */
  appOverBareHono: Ratio;
  /** Against bare Hono decrypting through Web Crypto, the baseline the targets were set against. */
  appOverBareHonoWebCrypto: Ratio;
  appOverSync?: Ratio;
  policyOverRoot: Ratio;
}

const read = (app: Hono, token: string) => async () => {
  const response = await app.request(SECRET_URL, { headers: { "X-Vault-Token": token } });
  if (response.status !== 200) throw new Error(`bench read failed: ${response.status}`);
  await response.arrayBuffer();
};

export async function benchKvRead(options: {
  store: string;
  broker: Broker;
  /** The store under `broker`, opened again without the broker's authentication. */
  raw: ItemStore;
  fixture: KvFixture;
  sync?: SyncKvRead;
  rounds: number;
  iterations: number;
}): Promise<KvReadResult> {
  const { fixture } = options;
  const app = createApp(options.broker);
  const envelope = await baselineEnvelope(BENCH_SECRET, fixture.binding);
  const bare = createBareKvApp(options.raw, fixture.mountUuid, envelope, decryptWithNodeCrypto);
  const bareWebCrypto = createBareKvApp(options.raw, fixture.mountUuid, envelope, decryptWithWebCrypto);
  const variants: Variant[] = [
    { name: "app, root token", run: read(app, fixture.rootToken) },
    { name: "app, policy token", run: read(app, fixture.policyToken) },
    { name: "bare Hono", run: read(bare, "") },
    { name: "bare Hono, Web Crypto", run: read(bareWebCrypto, "") },
  ];
  if (options.sync) variants.push({ name: "sync store + node:crypto", run: options.sync.read });
  const rounds = await interleavedRounds(variants, {
    rounds: options.rounds,
    iterations: options.iterations,
    warmup: Math.min(200, options.iterations),
  });
  const p50 = rounds.p50Ms;
  const perVariant = (values: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(values).map(([name, ms]) => [name, round(median(ms), 3)]));
  return {
    store: options.store,
    rounds: rounds.rounds,
    iterations: rounds.iterations,
    p50Ms: perVariant(p50),
    p99Ms: perVariant(rounds.p99Ms),
    appOverBareHono: ratioOf(p50["app, root token"] ?? [], p50["bare Hono"] ?? []),
    appOverBareHonoWebCrypto: ratioOf(p50["app, root token"] ?? [], p50["bare Hono, Web Crypto"] ?? []),
    appOverSync: options.sync
      ? ratioOf(p50["app, root token"] ?? [], p50["sync store + node:crypto"] ?? [])
      : undefined,
    policyOverRoot: ratioOf(p50["app, policy token"] ?? [], p50["app, root token"] ?? []),
  };
}
