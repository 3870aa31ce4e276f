import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Broker } from "../../../shared/broker.ts";
import { runPeriodicWork } from "../../../shared/mounts/periodic.ts";
import { b64, openTransitDeployment, type TransitDeployment, unb64 } from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

const HOUR_MS = 3600_000;

async function ok(path: string, body?: unknown) {
  const reply = await h.call("POST", path, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.data;
}

const latest = async (name: string) => (await h.call("GET", `transit/keys/${name}`)).body.data.latest_version;

/** One tick of the revoker's periodic work, with time enough. */
const tick = (broker: Broker) => runPeriodicWork(broker, { deadline: Number.POSITIVE_INFINITY });

/** What a tick rotated, mount by mount. */
const rotated = async (broker: Broker) =>
  Object.fromEntries((await tick(broker)).mounts.map((mount) => [mount.path, mount.done]));

describe("the transit engine's periodic rotation", () => {
  it("rotates keys whose latest version is older than auto_rotate_period, and only those", async () => {
    await ok("transit/keys/hourly", { auto_rotate_period: "1h" });
    await ok("transit/keys/daily");
    await ok("transit/keys/daily/config", { auto_rotate_period: "24h" });
    await ok("transit/keys/never");
    h.clock.advance(HOUR_MS - 1000);
    expect(await rotated(h.broker)).toEqual({});
    h.clock.advance(1000);
    const report = await tick(h.broker);
    expect(report).toEqual({
      done: 1,
      failed: 0,
      complete: true,
      mounts: [{ path: "transit/", type: "transit", done: 1, failed: 0, complete: true }],
      errors: [],
    });
    expect(await latest("hourly")).toBe(2);
    expect(await latest("daily")).toBe(1);
    expect(await latest("never")).toBe(1);
    // The period restarts from the new version.
    h.clock.advance(HOUR_MS / 2);
    expect(await rotated(h.broker)).toEqual({});
    h.clock.advance(24 * HOUR_MS);
    expect(await rotated(h.broker)).toEqual({ "transit/": 2 });
    expect(await latest("daily")).toBe(2);
    expect(await latest("hourly")).toBe(3);
    expect(await latest("never")).toBe(1);
  });

  it("covers every transit mount", async () => {
    await h.broker.mounts.enable({ path: "transit-eu/", type: "transit" });
    await ok("transit/keys/a", { auto_rotate_period: 3600 });
    await ok("transit-eu/keys/b", { auto_rotate_period: 3600 });
    h.clock.advance(HOUR_MS);
    expect(await rotated(h.broker)).toEqual({ "transit/": 1, "transit-eu/": 1 });
    expect((await h.call("GET", "transit-eu/keys/b")).body.data.latest_version).toBe(2);
  });

  it("two runs at once rotate a due key once", async () => {
    await ok("transit/keys/k", { auto_rotate_period: "1h" });
    h.clock.advance(HOUR_MS);
    const other = await h.process();
    const [a, b] = await Promise.all([tick(h.broker), tick(other.broker)]);
    expect(a.done + b.done).toBe(1);
    expect(await latest("k")).toBe(2);
  });

  it("rotated keys keep decrypting what older versions encrypted, and this process uses the new one at once", async () => {
    await ok("transit/keys/k", { auto_rotate_period: "1h" });
    const { ciphertext } = await ok("transit/encrypt/k", { plaintext: b64("before") });
    h.clock.advance(HOUR_MS);
    await tick(h.broker);
    expect((await ok("transit/encrypt/k", { plaintext: b64("after") })).key_version).toBe(2);
    expect(unb64((await ok("transit/decrypt/k", { ciphertext })).plaintext)).toBe("before");
  });

  it("stops at its deadline and says so", async () => {
    await ok("transit/keys/a", { auto_rotate_period: "1h" });
    await ok("transit/keys/b", { auto_rotate_period: "1h" });
    h.clock.advance(HOUR_MS);
    const transit = (await h.broker.mounts.resolve("transit/keys"))!.mount;
    const engine = await h.broker.engineFor(transit);
    expect(await engine.periodic?.(h.clock.now())).toEqual({ done: 0, failed: 0, complete: false });
    expect(await latest("a")).toBe(1);
  });
});
