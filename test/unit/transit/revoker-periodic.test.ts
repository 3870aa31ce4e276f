/**
 * The scheduled revoker's periodic work: a transit key whose auto_rotate_period has passed
 * is rotated by the revoker's tick, after its lease sweep, as deployed.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRevoker } from "../../../functions/revoker.ts";
import type { LogLevel } from "../../../shared/log.ts";
import { openTransitDeployment, type TransitDeployment } from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

describe("the revoker's periodic work", () => {
  it("rotates a transit key once its auto_rotate_period has passed, and logs it", async () => {
    const created = await h.call("POST", "transit/keys/orders", { auto_rotate_period: "1h" });
    expect(created.status).toBe(200);
    const logs: { level: LogLevel; msg: string; fields: Record<string, unknown> }[] = [];
    const revoker = createRevoker(h.broker, (level, msg, fields) => logs.push({ level, msg, fields }));
    const tick = () => revoker({}, { getRemainingTimeInMillis: () => 60_000 });

    await tick();
    expect((await h.call("GET", "transit/keys/orders")).body.data.latest_version).toBe(1);
    expect(logs.some((line) => line.msg === "periodic work")).toBe(false);

    h.clock.advance(3600_000);
    await tick();
    expect((await h.call("GET", "transit/keys/orders")).body.data.latest_version).toBe(2);
    expect(logs.find((line) => line.msg === "periodic work")).toMatchObject({
      level: "info",
      fields: {
        done: 1,
        failed: 0,
        complete: true,
        mounts: [{ path: "transit/", type: "transit", done: 1 }],
      },
    });
  });

  it("leaves the periodic work for the next tick when the sweep used up the time", async () => {
    await h.call("POST", "transit/keys/orders", { auto_rotate_period: "1h" });
    h.clock.advance(3600_000);
    const revoker = createRevoker(h.broker, () => {});
    await revoker({}, { getRemainingTimeInMillis: () => 10_000 });
    expect((await h.call("GET", "transit/keys/orders")).body.data.latest_version).toBe(1);
    await revoker({}, { getRemainingTimeInMillis: () => 60_000 });
    expect((await h.call("GET", "transit/keys/orders")).body.data.latest_version).toBe(2);
  });
});
