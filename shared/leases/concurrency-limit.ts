/**
 * At most `limit` tasks in flight at once; the rest wait their turn in order. Sweeps and
 * bulk revocations use it so that thousands of due leases become a steady stream of store
 * and engine calls rather than one burst that the store or the engine would throttle.
 */
export type Limited = <T>(task: () => Promise<T>) => Promise<T>;

export function limitConcurrency(limit: number): Limited {
  let active = 0;
  const waiting: (() => void)[] = [];

  // A finishing task hands its slot straight to the next waiter, so a newcomer can never
  // slip in between and push the count over the limit.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
