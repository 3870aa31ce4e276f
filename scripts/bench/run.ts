/**
 * `npm run bench`: every measurement side by side in one run, on this machine, reported
 * as ratios against baselines measured in the same run. Prints a table and writes JSON to
 * bench-results/. `--quick` runs fewer iterations (a smoke run, not numbers to quote).
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { createLocalBroker } from "../../cli/local-broker.ts";
import { createAwsBroker } from "../../functions/aws-broker.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { motoAvailable, startMoto } from "../../test/support/moto.ts";
import { benchCliStart, printCliStart } from "./cli-start.ts";
import { benchColdStart } from "./cold-start.ts";
import { benchHttpConcurrency } from "./http-concurrency.ts";
import { benchKmsCalls, countCommands } from "./kms-calls.ts";
import { benchKvRead, type KvReadResult } from "./kv-read.ts";
import { benchLogin } from "./login.ts";
import { round } from "./measure.ts";
import { benchRevoker, type RevokerResult } from "./revoker.ts";

const quick = process.argv.includes("--quick");
const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
  },
  quick,
};
const discardAudit = () => {};

function printKvRead(rows: KvReadResult[]) {
  console.log("\n1. Warm authenticated KV read (in-process app) vs store read + one AES-GCM decrypt");
  console.table(
    rows.map((row) => ({
      store: row.store,
      "app reads/s": round(row.app.perSecond, 0),
      "app p50 ms": round(row.app.p50Ms, 3),
      "app p99 ms": round(row.app.p99Ms, 3),
      "baseline p50 ms": round(row.baseline.p50Ms, 3),
      "baseline p99 ms": round(row.baseline.p99Ms, 3),
      "overhead p50 (x)": row.overheadP50,
      "overhead p99 (x)": row.overheadP99,
    })),
  );
}

async function main() {
  const kvRows: KvReadResult[] = [];
  const revokerRows: RevokerResult[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-bench-"));
  try {
    const sqlite = await createLocalBroker({ dataDir, auditLog: join(dataDir, "audit.log") });
    const sqliteRaw = openSqliteStore({ path: join(dataDir, "coffer.db") });
    kvRows.push(await benchKvRead(sqlite, sqliteRaw, "sqlite", quick ? 300 : 5000));
    await sqliteRaw.close();
    await sqlite.store.close();
    const loginBroker = await createLocalBroker({ dataDir: join(dataDir, "login") });
    results.login = await benchLogin(loginBroker, quick ? 100 : 2000);
    await loginBroker.store.close();
    const revokerStore = openSqliteStore({ path: join(dataDir, "revoker.db") });
    revokerRows.push(await benchRevoker(revokerStore, "sqlite", quick ? 200 : 2000));
    await revokerStore.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }

  if (motoAvailable()) {
    const moto = await startMoto();
    try {
      const clientConfig = { region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials };
      const tableName = "coffer-bench";
      await createTable(new DynamoDBClient(clientConfig), tableName);
      const keyId = (await new KMSClient(clientConfig).send(new CreateKeyCommand({}))).KeyMetadata
        ?.KeyId as string;
      const makeBroker = async () => {
        const kms = new KMSClient(clientConfig);
        const counts = countCommands(kms);
        const broker = await createAwsBroker({
          tableName,
          kmsKeyId: keyId,
          region: moto.region,
          endpoint: moto.endpoint,
          auditWriters: [discardAudit],
          clients: { dynamodb: new DynamoDBClient(clientConfig), kms },
        });
        return { broker, counts, kms, keyId };
      };
      const revokerTable = "coffer-bench-revoker";
      await createTable(new DynamoDBClient(clientConfig), revokerTable);
      // moto is not safe with concurrent transactions (they fail with a 500, or a failed one
      // restores other tables from its snapshot), so the sweep's requests take turns on one
      // connection, as in test/contract/leases.test.ts. DynamoDB itself needs no such thing.
      const oneConnection = { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) };
      revokerRows.push(
        await benchRevoker(
          createDynamoDbStore({
            client: new DynamoDBClient({ ...clientConfig, requestHandler: oneConnection }),
            tableName: revokerTable,
          }),
          "dynamodb (moto)",
          quick ? 50 : 300,
        ),
      );
      const first = await makeBroker();
      const kv = await benchKvRead(
        first.broker,
        createDynamoDbStore({ client: new DynamoDBClient(clientConfig), tableName }),
        "dynamodb (moto)",
        quick ? 100 : 1000,
      );
      kvRows.push(kv);
      const rootToken = await rootTokenOf(first.broker);
      results.kmsCalls = await benchKmsCalls(makeBroker, rootToken);
      results.coldStart = await benchColdStart(
        {
          COFFER_TABLE: tableName,
          COFFER_KMS_KEY_ID: keyId,
          COFFER_REGION: moto.region,
          COFFER_AWS_ENDPOINT: moto.endpoint,
          AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
        },
        rootToken,
        quick ? 3 : 15,
      );
    } finally {
      await moto.stop();
    }
  } else {
    results.kmsCalls = "skipped: moto_server not found";
  }
  results.kvRead = kvRows;
  printKvRead(kvRows);

  console.log("\n2. KMS calls (counted at the KMS client)");
  console.table(results.kmsCalls);
  console.log("\n3. Kubernetes login: verify the token (keys cached), read the role, issue a broker token");
  console.table(results.login);
  if (results.coldStart) {
    const coldStart = results.coldStart as Awaited<ReturnType<typeof benchColdStart>>;
    console.log(
      `\n4. Cold start: import + first authenticated read, over an empty Node start (${coldStart.emptyNodeMs} ms)`,
    );
    console.table(coldStart.rows);
    console.log(`   overhead ratio, ours / naive: ${coldStart.overheadRatio} (target <= 0.5)`);
  }

  results.revoker = revokerRows;
  console.log("\n5. Revoker: N leases expiring at once, swept back to back");
  console.table(revokerRows);

  const concurrency = await benchHttpConcurrency([1, 8, 64], quick ? 200 : 3000);
  results.httpConcurrency = concurrency;
  console.log("\n6. Reads/s through real HTTP on coffer dev");
  console.table(concurrency);

  const cliStart = await benchCliStart(quick ? 3 : 20);
  results.cliStart = cliStart;
  printCliStart(cliStart);

  mkdirSync("bench-results", { recursive: true });
  const file = join("bench-results", `bench-${results.startedAt}.json`.replace(/:/g, "-"));
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

/** The root token the KV benchmark created: a fresh one, since init prints it only once. */
async function rootTokenOf(broker: Awaited<ReturnType<typeof createAwsBroker>>): Promise<string> {
  const { token } = await broker.tokens.create({
    policies: ["root"],
    displayName: "bench",
    path: "auth/token/create",
    ttl: 3600,
  });
  return token;
}

await main();
