/**
 * A deployment with transit/ mounted, on a clock frozen at 2030-01-01, whose processes
 * count what they cost (test/support/cost-counters.ts): the deployment's own process and
 * each one `process()` starts, every one with counters of its own.
 */
import { expect } from "vitest";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import type { Item } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import {
  type Counters,
  countingKeyProvider,
  countingStore,
  newCounters,
} from "../../support/cost-counters.ts";
import { type Deployment, openDeployment, type Process } from "../../support/deployment.ts";
import { allItems } from "../../support/store-items.ts";
import { frozenClock } from "../../support/test-clock.ts";

export interface CountedProcess extends Process {
  counters: Counters;
}

export interface TransitDeployment extends Deployment, CountedProcess {
  process(): Promise<CountedProcess>;
  /** Every item of every transit mount, as stored (uncounted): what was, or was not, written. */
  dump(): Promise<Item[]>;
}

export async function openTransitDeployment(): Promise<TransitDeployment> {
  const table = openSqliteStore({ path: ":memory:" });
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const countedBy = (counters: Counters) => ({
    store: countingStore(table, counters),
    keyProvider: countingKeyProvider(createLocalKeyProvider(rootKey), counters),
  });
  const counters = newCounters();
  const deployment = await openDeployment({
    ...countedBy(counters),
    rootKey,
    clock: frozenClock(Date.UTC(2030, 0, 1)),
  });
  await deployment.broker.mounts.enable({ path: "transit/", type: "transit" });
  const uncounted = deployment.process;
  return Object.assign(deployment, {
    counters,
    async process() {
      const processCounters = newCounters();
      return Object.assign(await uncounted(countedBy(processCounters)), {
        counters: processCounters,
      });
    },
    async dump() {
      const items: Item[] = [];
      for (const mount of await deployment.broker.mounts.list()) {
        items.push(...(await allItems(table, `transit/${mount.uuid}`)));
      }
      return items;
    },
  });
}

export const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
export const unb64 = (text: string) => Buffer.from(text, "base64").toString("utf8");

/** Expects a 200 and returns the answer's data. */
// biome-ignore lint/suspicious/noExplicitAny: answers are inspected field by field
export async function dataOf(h: Process, method: string, path: string, body?: unknown): Promise<any> {
  const reply = await h.call(method, path, body);
  expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(200);
  return reply.body.data;
}

/** Expects `status` (400 unless told) with exactly the error `message`, and no transit item changed. */
export async function expectRefusal(
  h: TransitDeployment,
  method: string,
  path: string,
  body: unknown,
  message: string | RegExp,
  status = 400,
): Promise<void> {
  const before = await h.dump();
  const reply = await h.call(method, path, body);
  expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(status);
  if (typeof message === "string") expect(reply.body.errors).toEqual([message]);
  else expect(reply.body.errors.join(" ")).toMatch(message);
  expect(await h.dump()).toEqual(before);
}
