/**
 * A server the tests of one suite share: started in the suite's beforeAll, stopped in its
 * afterAll. Called in a describe block, before the suite's own hooks, so it is up before
 * they run and stopped after theirs.
 *
 * The handle is filled when the server starts: read its fields in hooks and tests, not
 * while the suite is being collected.
 */
import { afterAll, beforeAll } from "vitest";

export function useSuiteServer<T extends object>(
  start: () => Promise<T>,
  stop: (server: T) => Promise<void>,
): T {
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
