/**
 * The stores a crash test kills a revoker on, as a Lambda would be killed: an SQLite file
 * and DynamoDB on moto. Each setup opens the store for the test and says, in
 * `childEnv`, how the revoker's own process (test/support/sweep-child.ts) opens the same.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, describe } from "vitest";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { motoAvailable, motoClientConfig, useMoto } from "./moto.ts";
import { waitFor } from "./wait.ts";

export type CrashStoreSetup = () => Promise<{ store: ItemStore; childEnv: Record<string, string> }>;

/** Declares `contract` once per store, in describe blocks named after `what`. */
export function describeOnCrashStores(what: string, contract: (setup: CrashStoreSetup) => void): void {
  describe(`${what}, on an SQLite file`, () => {
    const dir = mkdtempSync(join(tmpdir(), "coffer-crash-db-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    let files = 0;
    contract(async () => {
      const path = join(dir, `coffer-${++files}.db`);
      return {
        store: openSqliteStore({ path }),
        childEnv: { SWEEP_STORE: "sqlite", SWEEP_SQLITE_PATH: path },
      };
    });
  });

  describe.skipIf(!motoAvailable())(`${what}, on DynamoDB (moto)`, () => {
    const moto = useMoto();
    let tables = 0;
    contract(async () => {
      const client = new DynamoDBClient({
        ...motoClientConfig(moto),
        // moto is not safe with concurrent transactions; see test/contract/leases.test.ts.
        requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
      });
      const tableName = `crash-${++tables}`;
      await createTable(client, tableName);
      return {
        store: createDynamoDbStore({ client, tableName }),
        childEnv: {
          SWEEP_STORE: "dynamodb",
          SWEEP_DYNAMODB_ENDPOINT: moto.endpoint,
          SWEEP_DYNAMODB_TABLE: tableName,
        },
      };
    });
  });
}

const SWEEP_CHILD = join(import.meta.dirname, "sweep-child.ts");

const linesOf = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];

/**
 * Runs a revoker process (sweep-child.ts) on the crash store and kills it with SIGKILL once
 * it has revoked `revocations` leases, mid-sweep. Answers the lease ids it revoked.
 */
export async function sweepUntilKilled(options: {
  childEnv: NodeJS.ProcessEnv;
  rootKey: Uint8Array;
  revocations: number;
}): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "coffer-crash-"));
  const revokeLog = join(dir, "revoked.log");
  let child: ChildProcess | undefined;
  try {
    child = spawn(process.execPath, ["--import", "tsx", SWEEP_CHILD], {
      env: {
        ...process.env,
        ...options.childEnv,
        SWEEP_ROOT_KEY: Buffer.from(options.rootKey).toString("hex"),
        SWEEP_REVOKE_LOG: revokeLog,
        SWEEP_DELAY_MS: "150",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    // Polled often: the child must be killed while it is still sweeping.
    await waitFor(
      "the first revocations",
      () => (linesOf(revokeLog).length >= options.revocations ? true : undefined),
      60_000,
      20,
    );
    child.kill("SIGKILL");
    await exited;
    return linesOf(revokeLog);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}
