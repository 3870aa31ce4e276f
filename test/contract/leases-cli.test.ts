/**
 * `coffer operator sweep`: one sweep of a local store from the command line, reported as
 * JSON, with the exit code saying whether everything due was revoked.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalBroker } from "../../cli/local-broker.ts";
import type { Mount } from "../../shared/engines/mount.ts";
import { initialize } from "../../shared/sys/init.ts";
import { COFFER_SCRIPT } from "../support/coffer-command.ts";

const BIN = COFFER_SCRIPT;

describe("coffer operator sweep", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "coffer-sweep-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("revokes the due leases of a local store and prints the report", async () => {
    const broker = await createLocalBroker({ dataDir });
    await initialize(broker);
    const mount = (await broker.mounts.enable({ path: "aws", type: "aws" })) as Mount;
    const expiresAt = Date.now() + 200;
    // STS credentials that expire on their own: revoking them after expiry needs no AWS call.
    const lease = await broker.leases.issue({
      path: "aws/creds/app",
      type: "aws-sts",
      mount,
      caller: undefined,
      expiresAt,
      renewable: false,
      data: {
        role_arn: "arn:aws:iam::123456789012:role/app",
        user_id: "AROAX:s",
        expiration: expiresAt,
        issued: expiresAt - 900_000,
      },
    });
    await broker.store.close();
    await new Promise((resolve) => setTimeout(resolve, 300));

    const run = spawnSync(process.execPath, [BIN, "operator", "sweep", "--data-dir", dataDir], {
      encoding: "utf8",
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ due: 1, revoked: 1, failed: 0, complete: true });

    const after = await createLocalBroker({ dataDir });
    expect(await after.leases.lookup(lease.id)).toBeUndefined();
    expect((await after.store.query({ pk: "lease/aws" })).items).toEqual([]);
    await after.store.close();
  }, 60_000);

  it("refuses an unknown store kind", () => {
    const run = spawnSync(process.execPath, [BIN, "operator", "sweep", "--store", "floppy"], {
      encoding: "utf8",
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/unknown store "floppy"/);
  });
});
