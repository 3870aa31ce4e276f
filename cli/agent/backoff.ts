/**
 * Exponential backoff with jitter and a cap: each failure doubles the ceiling (up to
 * `maxMs`), the delay is drawn from its upper half so agents that failed together do not
 * retry together, and a success starts over from `initialMs`.
 */
export interface Backoff {
  /** The delay before the next attempt. */
  next(): number;
  reset(): void;
  readonly failures: number;
}

export function createBackoff(options: { initialMs: number; maxMs: number; random?: () => number }): Backoff {
  const random = options.random ?? Math.random;
  let failures = 0;
  return {
    next() {
      const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(failures, 30));
      failures++;
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    },
    reset() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}
