/**
 * Clocks for tests that count TTLs to the second: one that moves only when told, and one
 * that moves a few milliseconds each time it is read, as a busy machine's clock does
 * between two reads of one request.
 */
import type { TestClock } from "./lease-broker.ts";

export function frozenClock(): TestClock {
  let now = Date.now();
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

export function tickingClock(tickMs = 7): TestClock {
  let now = Date.now();
  return {
    now: () => {
      now += tickMs;
      return now;
    },
    advance(ms) {
      now += ms;
    },
  };
}
