/**
 * Serializes the writes one process makes to one secret, as Vault does with its per-key
 * locks: concurrent writers in one process then never make each other retry. Writers in
 * other processes are kept apart by the store's conditional writes, not by this.
 */
export type PathLock = <T>(path: string, work: () => Promise<T>) => Promise<T>;

export function createPathLock(): PathLock {
  const tails = new Map<string, Promise<unknown>>();
  return async (path, work) => {
    const previous = tails.get(path) ?? Promise.resolve();
    const run = previous.then(work);
    // The tail never rejects, so the next writer waits for this one whatever its outcome.
    const tail = run.then(
      () => {},
      () => {},
    );
    tails.set(path, tail);
    try {
      return await run;
    } finally {
      if (tails.get(path) === tail) tails.delete(path);
    }
  };
}
