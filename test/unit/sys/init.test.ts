/**
 * Initialization writes the root token last: a store that fails any earlier step is left
 * uninitialized, so running init again works and prints a root token someone sees.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize, isInitialized } from "../../../shared/sys/init.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

describe("initialize", () => {
  let dir: string;
  let path: string;
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  /** A process of the deployment on the SQLite file, leaving initialization to the test. */
  const open = (): Promise<Deployment> =>
    openDeployment({ store: openSqliteStore({ path }), rootKey, initialize: false });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "coffer-init-"));
    path = join(dir, "coffer.db");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves the store uninitialized when a step before the root token fails, and can run again", async () => {
    const first = await open();
    await first.broker.store.get({ pk: "sys", sk: "init" }); // creates the table
    const disk = new Database(path);
    disk.exec(`CREATE TRIGGER fail_default BEFORE INSERT ON items WHEN NEW.pk = 'policy/acl'
      BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
    await expect(initialize(first.broker)).rejects.toThrow();
    expect(await isInitialized(first.broker)).toBe(false);
    expect(disk.prepare("SELECT count(*) AS n FROM items WHERE pk LIKE 'token/%'").get()).toEqual({ n: 0 });
    disk.exec("DROP TRIGGER fail_default");
    disk.close();
    await first.close();

    const second = await open();
    const { rootToken } = await initialize(second.broker);
    expect(await second.broker.tokens.lookup(rootToken)).toMatchObject({ policies: ["root"] });
    expect((await second.broker.mounts.list()).map((mount) => mount.path)).toContain("secret/");
    await expect(initialize(second.broker)).rejects.toThrow("Coffer is already initialized");
    await second.close();
  });
});
