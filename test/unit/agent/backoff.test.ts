import { describe, expect, it } from "vitest";
import { createBackoff } from "../../../cli/agent/backoff.ts";

describe("agent backoff", () => {
  it("doubles up to the cap, draws from the upper half, and starts over after a success", () => {
    const low = createBackoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect([low.next(), low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect(low.failures).toBe(6);
    low.reset();
    expect(low.failures).toBe(0);
    expect(low.next()).toBe(50);

    const high = createBackoff({ initialMs: 100, maxMs: 1_000, random: () => 1 });
    expect([high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
  });

  it("never exceeds the cap however long failures last", () => {
    const backoff = createBackoff({ initialMs: 1_000, maxMs: 60_000 });
    for (let i = 0; i < 200; i++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(60_000);
    }
  });
});
