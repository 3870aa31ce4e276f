import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rotateDueTransitKeys } from "../../../shared/engines/transit/index.ts";
import { b64, type Harness, startHarness, unb64 } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
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

describe("rotateDueTransitKeys", () => {
  it("rotates keys whose latest version is older than auto_rotate_period, and only those", async () => {
    await ok("transit/keys/hourly", { auto_rotate_period: "1h" });
    await ok("transit/keys/daily");
    await ok("transit/keys/daily/config", { auto_rotate_period: "24h" });
    await ok("transit/keys/never");
    h.clock.now += HOUR_MS - 1000;
    expect((await rotateDueTransitKeys(h.main.broker)).rotated).toEqual([]);
    h.clock.now += 1000;
    const report = await rotateDueTransitKeys(h.main.broker);
    expect(report).toEqual({
      rotated: [{ mount: "transit/", key: "hourly", version: 2 }],
      failed: [],
      incomplete: false,
    });
    expect(await latest("hourly")).toBe(2);
    expect(await latest("daily")).toBe(1);
    // The period restarts from the new version.
    h.clock.now += HOUR_MS / 2;
    expect((await rotateDueTransitKeys(h.main.broker)).rotated).toEqual([]);
    h.clock.now += 24 * HOUR_MS;
    const later = await rotateDueTransitKeys(h.main.broker);
    expect(later.rotated.map((r) => r.key).sort()).toEqual(["daily", "hourly"]);
  });

  it("covers every transit mount", async () => {
    await h.main.broker.mounts.enable({ path: "transit-eu/", type: "transit" });
    await ok("transit/keys/a", { auto_rotate_period: 3600 });
    await ok("transit-eu/keys/b", { auto_rotate_period: 3600 });
    h.clock.now += HOUR_MS;
    const report = await rotateDueTransitKeys(h.main.broker);
    expect(report.rotated.map((r) => `${r.mount}${r.key}`).sort()).toEqual(["transit-eu/b", "transit/a"]);
  });

  it("two runs at once rotate a due key once", async () => {
    await ok("transit/keys/k", { auto_rotate_period: "1h" });
    h.clock.now += HOUR_MS;
    const other = await h.process();
    const [a, b] = await Promise.all([
      rotateDueTransitKeys(h.main.broker),
      rotateDueTransitKeys(other.broker),
    ]);
    expect(a.rotated.length + b.rotated.length).toBe(1);
    expect(await latest("k")).toBe(2);
  });

  it("rotated keys keep decrypting what older versions encrypted, and this process uses the new one at once", async () => {
    await ok("transit/keys/k", { auto_rotate_period: "1h" });
    const { ciphertext } = await ok("transit/encrypt/k", { plaintext: b64("before") });
    h.clock.now += HOUR_MS;
    await rotateDueTransitKeys(h.main.broker);
    expect((await ok("transit/encrypt/k", { plaintext: b64("after") })).key_version).toBe(2);
    expect(unb64((await ok("transit/decrypt/k", { ciphertext })).plaintext)).toBe("before");
  });

  it("stops at its deadline and says so", async () => {
    await ok("transit/keys/a", { auto_rotate_period: "1h" });
    await ok("transit/keys/b", { auto_rotate_period: "1h" });
    h.clock.now += HOUR_MS;
    const report = await rotateDueTransitKeys(h.main.broker, { stopAt: h.clock.now });
    expect(report).toEqual({ rotated: [], failed: [], incomplete: true });
    expect(await latest("a")).toBe(1);
  });
});
