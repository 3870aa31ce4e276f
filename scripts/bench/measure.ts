/**
 * Latency sampling for the benchmark. Variants that are compared run interleaved in
 * rounds: each round runs every variant for the same number of iterations, in an order
 * that rotates from round to round, and the comparison is the ratio within each round.
 * On a shared machine the load drifts by more than the differences measured; a drift hits
 * both sides of a round alike, so the per-round ratios stay put while the absolute
 * figures wander. Iterations are sequential on purpose: latency is the point here;
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

export function summarize(durationsMs: readonly number[], wallMs: number): Sample {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    perSecond: (sorted.length / wallMs) * 1000,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

/** `count` runs of `operation`, one at a time, after `warmup` runs that are not measured. */
export async function sample(
  count: number,
  operation: () => Promise<unknown>,
  warmup = Math.min(200, count),
): Promise<Sample> {
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

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  if (sorted.length === 0) return Number.NaN;
  return Number.isInteger(middle)
    ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    : (sorted[Math.floor(middle)] as number);
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** One thing to time. A synchronous operation is not awaited, so it pays no microtask hop. */
export interface Variant {
  name: string;
  run: () => unknown;
}

/** Per round, per variant: the round's p50 and p99 in milliseconds. */
export interface Rounds {
  rounds: number;
  iterations: number;
  p50Ms: Record<string, number[]>;
  p99Ms: Record<string, number[]>;
}

export async function interleavedRounds(
  variants: readonly Variant[],
  options: { rounds: number; iterations: number; warmup?: number },
): Promise<Rounds> {
  const result: Rounds = { rounds: options.rounds, iterations: options.iterations, p50Ms: {}, p99Ms: {} };
  for (const variant of variants) {
    result.p50Ms[variant.name] = [];
    result.p99Ms[variant.name] = [];
    for (let i = 0; i < (options.warmup ?? 200); i++) {
      const pending = variant.run();
      if (pending instanceof Promise) await pending;
    }
  }
  const durations = new Float64Array(options.iterations);
  for (let r = 0; r < options.rounds; r++) {
    for (let v = 0; v < variants.length; v++) {
      const variant = variants[(r + v) % variants.length] as Variant;
      for (let i = 0; i < options.iterations; i++) {
        const start = performance.now();
        const pending = variant.run();
        if (pending instanceof Promise) await pending;
        durations[i] = performance.now() - start;
      }
      const sorted = Array.from(durations).sort((a, b) => a - b);
      result.p50Ms[variant.name]?.push(percentile(sorted, 50));
      result.p99Ms[variant.name]?.push(percentile(sorted, 99));
    }
  }
  return result;
}

/** The spread of per-round ratios a / b: what the benchmark quotes. */
export interface Ratio {
  min: number;
  median: number;
  max: number;
}

export function ratioOf(a: readonly number[], b: readonly number[]): Ratio {
  const ratios = a.map((value, i) => value / (b[i] as number)).sort((x, y) => x - y);
  return {
    min: round(ratios[0] as number),
    median: round(median(ratios)),
    max: round(ratios[ratios.length - 1] as number),
  };
}

/** CPU time (user + system) the process spent running `operation`, in milliseconds. */
export async function cpuMs<T>(
  operation: () => Promise<T>,
): Promise<{ result: T; cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await operation();
  const used = process.cpuUsage(cpu);
  return { result, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - started };
}
