/** The probe's verdicts on the status file, with the clock pinned. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeStatus, writeStatus } from "../../../cli/agent/status-file.ts";

describe("agent status file", () => {
  let dir: string;
  const at = Date.parse("2026-01-01T00:00:00Z");
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "coffer-status-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("passes liveness on a fresh heartbeat and readiness only once ready", async () => {
    const file = join(dir, "status");
    await writeStatus(file, { pid: 1, ready: false, heartbeat_at: new Date(at).toISOString(), failures: 2 });
    expect(await probeStatus(file, { ready: false, maxAgeMs: 30_000, now: at + 29_000 })).toBeUndefined();
    expect(await probeStatus(file, { ready: true, maxAgeMs: 30_000, now: at })).toBe(
      "the agent has not rendered every file yet (2 failed attempts so far)",
    );
    await writeStatus(file, { pid: 1, ready: true, heartbeat_at: new Date(at).toISOString(), failures: 0 });
    expect(await probeStatus(file, { ready: true, maxAgeMs: 30_000, now: at })).toBeUndefined();
  });

  it("fails on a stale heartbeat, a missing file and a file that is not a status", async () => {
    const file = join(dir, "stale");
    await writeStatus(file, { pid: 1, ready: true, heartbeat_at: new Date(at).toISOString(), failures: 0 });
    expect(await probeStatus(file, { ready: false, maxAgeMs: 30_000, now: at + 31_000 })).toBe(
      "the agent's last heartbeat is 31s old (more than 30s): it is stuck or gone",
    );
    expect(await probeStatus(join(dir, "none"), { ready: false, maxAgeMs: 1, now: at })).toContain("ENOENT");
    await writeFile(join(dir, "junk"), "{}");
    expect(await probeStatus(join(dir, "junk"), { ready: false, maxAgeMs: 1, now: at })).toBe(
      `${join(dir, "junk")} is not a status file`,
    );
  });
});
