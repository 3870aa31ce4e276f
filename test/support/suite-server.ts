/**
 * A server the tests of one suite share: started in the suite's beforeAll, stopped in its
 * afterAll. Called in a describe block, before the suite's own hooks, so it is up before
 * they run and stopped after theirs.
 *
 * The handle is filled when the server starts: read its fields in hooks and tests, not
 * while the suite is being collected.
 */

// vitest can be imported only inside a vitest run; the benchmark scripts load the helpers
// beside this one (moto.ts) outside it.
const vitest = process.env.VITEST ? await import("vitest") : undefined;

export function useSuiteServer<T extends object>(
  start: () => Promise<T>,
  stop: (server: T) => Promise<void>,
): T {
  if (!vitest) throw new Error("a suite server is for a vitest suite; outside one, start the server itself");
  const { afterAll, beforeAll } = vitest;
  const handle = {} as T;
  let started = false;
  beforeAll(async () => {
    Object.assign(handle, await start());
    started = true;
  });
  afterAll(async () => {
    if (started) await stop(handle);
  });
  return handle;
}
