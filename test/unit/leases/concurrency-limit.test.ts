import { describe, expect, it } from "vitest";
import { limitConcurrency } from "../../../shared/leases/concurrency-limit.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("limitConcurrency", () => {
  it("never runs more than the limit at once, and runs everything", async () => {
    const limit = limitConcurrency(3);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await tick();
          active--;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("frees the slot of a task that fails", async () => {
    const limit = limitConcurrency(1);
    await expect(limit(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limit(async () => "next")).toBe("next");
  });
});
