/**
 * A revoker process for crash tests: it sweeps the store it is pointed at with the lease
 * test engine, appends each lease id to a file as the engine revokes it (synchronously, so
 * the parent sees it even after a SIGKILL), and takes a while over each revocation so the
 * parent can kill it mid-sweep.
 *
 * Environment: SWEEP_STORE=sqlite|dynamodb, SWEEP_SQLITE_PATH, SWEEP_DYNAMODB_ENDPOINT,
 * SWEEP_DYNAMODB_TABLE, SWEEP_ROOT_KEY (hex), SWEEP_REVOKE_LOG, SWEEP_DELAY_MS.
 */
import { appendFileSync } from "node:fs";
import { Agent } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoDbStore } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { openLeaseDeployment } from "./lease-deployment.ts";
import { createLeaseTestEngine } from "./lease-test-engine.ts";

const env = process.env;

function openStore(): ItemStore {
  if (env.SWEEP_STORE === "sqlite") return openSqliteStore({ path: String(env.SWEEP_SQLITE_PATH) });
  const client = new DynamoDBClient({
    endpoint: env.SWEEP_DYNAMODB_ENDPOINT,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
  });
  return createDynamoDbStore({ client, tableName: String(env.SWEEP_DYNAMODB_TABLE) });
}

const engine = createLeaseTestEngine();
const delayMs = Number(env.SWEEP_DELAY_MS ?? "100");
engine.behaviour.revoke = async (lease) => {
  appendFileSync(String(env.SWEEP_REVOKE_LOG), `${lease.id}\n`);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return undefined;
};

const { broker } = await openLeaseDeployment({
  store: openStore(),
  rootKey: Buffer.from(String(env.SWEEP_ROOT_KEY), "hex"),
  engine,
  initialize: false,
});
const report = await broker.leases.sweep({ budgetMs: 600_000, concurrency: 4 });
process.stdout.write(`${JSON.stringify(report)}\n`);
