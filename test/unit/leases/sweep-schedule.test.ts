import { describe, expect, it } from "vitest";
import type { Mount } from "../../../shared/engines/mount.ts";
import { sweepEvery } from "../../../shared/leases/sweep-schedule.ts";
import type { LogEvent } from "../../support/deployment.ts";
import { openLeaseDeployment } from "../../support/lease-deployment.ts";

describe("sweeping on an interval", () => {
  it("revokes what falls due without being asked, logs it, and stops cleanly", async () => {
    const { broker, engine, close } = await openLeaseDeployment();
    const mount = (await broker.mounts.resolve("t/creds/x"))?.mount as Mount;
    const lease = await broker.leases.issue({
      path: "t/creds/a",
      type: "test-credential",
      mount,
      caller: undefined,
      expiresAt: Date.now() + 50,
      renewable: false,
      data: {},
    });
    const logs: LogEvent[] = [];
    const schedule = sweepEvery(broker.leases, 20, (level, msg, fields) =>
      logs.push({ level, msg, ...fields }),
    );
    const deadline = Date.now() + 5_000;
    while (engine.revokeCalls.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await schedule.stop();
    expect(engine.revokeCalls.map((call) => call.id)).toEqual([lease.id]);
    expect(logs).toContainEqual(expect.objectContaining({ level: "info", msg: "lease sweep", revoked: 1 }));
    await close();
  });

  it("revokes expired tokens too, and logs a sweep that did only that", async () => {
    const { broker, clock, close } = await openLeaseDeployment();
    const { token } = await broker.tokens.create({
      policies: ["default"],
      displayName: "t",
      path: "auth/token/create",
      ttl: 1,
    });
    clock.advance(2_000);
    const logs: LogEvent[] = [];
    const schedule = sweepEvery(broker.leases, 20, (level, msg, fields) =>
      logs.push({ level, msg, ...fields }),
    );
    const deadline = Date.now() + 5_000;
    while ((await broker.tokens.find(token)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await schedule.stop();
    expect(await broker.tokens.find(token)).toBeUndefined();
    expect(logs).toContainEqual(expect.objectContaining({ msg: "lease sweep", due: 0, tokens_revoked: 1 }));
    await close();
  });
});
