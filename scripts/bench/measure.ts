/**
 * Latency sampling for the benchmark: run an operation many times, one at a time, and
 * report throughput and percentiles. Sequential on purpose: latency is the point here;
 * concurrency has its own section.
 */
export interface Sample {
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] as number;
}

export function summarize(durationsMs: number[], wallMs: number): Sample {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    perSecond: (sorted.length / wallMs) * 1000,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

export async function sample(
  count: number,
  operation: () => Promise<unknown>,
  warmup = Math.min(200, count),
) {
  for (let i = 0; i < warmup; i++) await operation();
  const durations: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await operation();
    durations.push(performance.now() - start);
  }
  return summarize(durations, performance.now() - started);
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
