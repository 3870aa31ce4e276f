/**
 * The clock a test deployment runs on, moved by the test instead of waited for. Either
 * frozen (every reading is exact, for assertions on times), running (real time plus
 * what the test added, for code that waits on time passing: sweeps, retries, processes
 * that read the real clock beside it), or ticking (a few milliseconds more at each
 * reading, as a busy machine's clock moves between two reads of one request, for tests
 * that count TTLs to the second).
 */
export interface TestClock {
  /** Milliseconds since the epoch; a plain function, so it can be handed on as a clock. */
  now: () => number;
  advance(ms: number): void;
  /** Moves the clock to `ms`, backwards too. */
  set(ms: number): void;
}

export function frozenClock(at = Date.now()): TestClock {
  let time = at;
  return {
    now: () => time,
    advance(ms) {
      time += ms;
    },
    set(ms) {
      time = ms;
    },
  };
}

export function runningClock(offsetMs = 0): TestClock {
  let offset = offsetMs;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
    set(ms) {
      offset = ms - Date.now();
    },
  };
}

export function tickingClock(tickMs = 7, at = Date.now()): TestClock {
  let time = at;
  return {
    now: () => {
      time += tickMs;
      return time;
    },
    advance(ms) {
      time += ms;
    },
    set(ms) {
      time = ms;
    },
  };
}
