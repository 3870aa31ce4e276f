/**
 * DynamoDB's latency in front of any store, for the benchmark only: every call waits a
 * delay drawn from a log-normal distribution (by default p50 4 ms, p99 15 ms, what
 * DynamoDB calls from Lambda in the same region commonly show) before the inner store
 * answers. moto is too slow and SQLite too fast to show how the revoker and the request
 * path behave on the real service's latency; this shows it with SQLite doing the storing.
 *
 * It records what the calls actually waited (a loaded machine fires timers late) and the
 * round trips on the critical path: calls that overlap count as one.
 */
import type { ItemStore } from "../../shared/store/item-store.ts";

export interface LatencyModel {
  p50Ms: number;
  p99Ms: number;
}

export const DYNAMODB_LATENCY: LatencyModel = { p50Ms: 4, p99Ms: 15 };

const Z99 = 2.326_347_874;

/** The log-normal's parameters: ln(delay) ~ N(mu, sigma). */
export function logNormal(model: LatencyModel) {
  const mu = Math.log(model.p50Ms);
  const sigma = (Math.log(model.p99Ms) - mu) / Z99;
  return { mu, sigma, meanMs: Math.exp(mu + (sigma * sigma) / 2) };
}

/** One delay: the inverse CDF at a uniform draw, through a standard normal (Box-Muller). */
export function drawDelayMs(model: LatencyModel, uniform: () => number = Math.random): number {
  const { mu, sigma } = logNormal(model);
  const u1 = 1 - uniform();
  const u2 = uniform();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(mu + sigma * normal);
}

export interface LatencyStore extends ItemStore {
  /** Off while a benchmark sets up its data, on while it measures. */
  enabled: boolean;
  /** Milliseconds each call waited, in order. */
  readonly waitedMs: number[];
  /** Times the store went from idle to busy: round trips on the critical path. */
  readonly sequentialRoundTrips: number;
  reset(): void;
}

export function withLatency(inner: ItemStore, model: LatencyModel = DYNAMODB_LATENCY): LatencyStore {
  let inFlight = 0;
  let sequentialRoundTrips = 0;
  const waitedMs: number[] = [];
  const delayed = async <T>(call: () => Promise<T>): Promise<T> => {
    if (!store.enabled) return call();
    if (inFlight++ === 0) sequentialRoundTrips++;
    const started = performance.now();
    try {
      await new Promise((resolve) => setTimeout(resolve, drawDelayMs(model)));
      waitedMs.push(performance.now() - started);
      return await call();
    } finally {
      inFlight--;
    }
  };
  const store: LatencyStore = {
    enabled: true,
    waitedMs,
    get sequentialRoundTrips() {
      return sequentialRoundTrips;
    },
    reset() {
      waitedMs.length = 0;
      sequentialRoundTrips = 0;
    },
    get: (key) => delayed(() => inner.get(key)),
    batchGet: (keys) => delayed(() => inner.batchGet(keys)),
    query: (input) => delayed(() => inner.query(input)),
    write: (ops) => delayed(() => inner.write(ops)),
    close: () => inner.close(),
  };
  return store;
}
