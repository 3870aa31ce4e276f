/**
 * `npm run bench`: every measurement side by side in one run, on this machine, each next
 * to its baseline measured in the same run, interleaved where they are compared. Each
 * section prints its table when it finishes, and the JSON of the run so far is rewritten
 * to bench-results/ then, so an interrupted run keeps what it measured.
 *
 *   npm run bench                           every section (under 10 minutes on a loaded 2-core machine)
 *   npm run bench -- --quick                fewer iterations: a smoke run, not numbers to quote
 *   npm run bench -- --only revoker,http    only the sections named
 *   npm run bench -- --revoker-scale [N]    only N leases (100,000) due at once, as the scheduled revoker runs
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { createLocalBroker } from "../../cli/local-broker.ts";
import { createAwsBroker } from "../../functions/aws-broker.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { type Moto, motoAvailable, startMoto } from "../../test/support/moto.ts";
import { baselineEnvelope } from "./baseline-envelope.ts";
import { benchCliStart, printCliStart } from "./cli-start.ts";
import { benchColdStart, type ColdStartResult } from "./cold-start.ts";
import { costModel } from "./cost-model.ts";
import { benchHttpConcurrency } from "./http-concurrency.ts";
import { benchKmsCalls, countCommands, type KmsCallsResult } from "./kms-calls.ts";
import { BENCH_SECRET, writeKvFixture } from "./kv-fixture.ts";
import { benchKvRead } from "./kv-read.ts";
import { withLatency } from "./latency-store.ts";
import { benchLogin } from "./login.ts";
import { round } from "./measure.ts";
import { benchOperationCosts, type OperationCost } from "./operation-costs.ts";
import { countRequestUnits } from "./request-units.ts";
import { BACK_TO_BACK, benchRevoker, type RevokerResult, SCHEDULED } from "./revoker.ts";
import { benchDynamoDbClientCpu, benchStoreCallCpu } from "./store-call-cpu.ts";
import { openSyncKvRead } from "./sync-kv-read.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const revokerScale = args.includes("--revoker-scale");
const scaleLeases = Number(args[args.indexOf("--revoker-scale") + 1] ?? "") || 100_000;
const onlyIndex = args.indexOf("--only");
const only = onlyIndex === -1 ? undefined : new Set((args[onlyIndex + 1] ?? "").split(","));
const SECTIONS = ["kv-read", "login", "revoker", "http", "moto", "costs", "cli"] as const;
const runs = (section: (typeof SECTIONS)[number]) => !revokerScale && (!only || only.has(section));
if (only)
  for (const name of only)
    if (!(SECTIONS as readonly string[]).includes(name))
      throw new Error(`no section ${name}: ${SECTIONS.join(", ")}`);

const startedAt = new Date().toISOString();
const results: Record<string, unknown> = {
  startedAt,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
  },
  quick,
  sections: {} as Record<string, { seconds: number; loadBefore: number[]; loadAfter: number[] }>,
};
mkdirSync("bench-results", { recursive: true });
const file = join("bench-results", `bench-${startedAt}.json`.replace(/:/g, "-"));
console.log(
  `writing ${file} as sections finish; load average ${loadavg()
    .map((n) => round(n, 1))
    .join(" ")}`,
);

/** Runs one section, records its time and the machine's load around it, saves the JSON. */
async function section<T>(
  name: string,
  title: string,
  measure: () => Promise<T>,
  print: (result: T) => void,
) {
  const loadBefore = loadavg().map((n) => round(n, 1));
  const started = performance.now();
  const result = await measure();
  const seconds = round((performance.now() - started) / 1000, 1);
  results[name] = result;
  (results.sections as Record<string, unknown>)[name] = {
    seconds,
    loadBefore,
    loadAfter: loadavg().map((n) => round(n, 1)),
  };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${title} (${seconds} s, load average ${loadBefore[0]} -> ${round(loadavg()[0] ?? 0, 1)})`);
  print(result);
  return result;
}

const ratio = (r: { min: number; median: number; max: number }) =>
  `${r.median}x (min ${r.min}, max ${r.max})`;

function printRevoker(rows: RevokerResult[]) {
  console.table(
    rows.map((row) => ({
      store: row.store,
      leases: row.leases,
      concurrency: row.concurrency,
      schedule: row.schedule,
      sweeps: row.sweeps,
      "revoked/s": row.revokedPerSecond,
      "CPU ms/lease": row.cpuMsPerLease,
      "lag p50 s": row.lagP50S,
      "lag p99 s": row.lagP99S,
      "all revoked after s": row.lagMaxS,
      "RRU/lease": row.perLease?.readUnits,
      "WRU/lease": row.perLease?.writeUnits,
      "store latency p50/p99 ms": row.storeLatencyMs && `${row.storeLatencyMs.p50}/${row.storeLatencyMs.p99}`,
      "repeated revocations": row.repeatedRevocations,
      "failed steps": row.failedSteps,
    })),
  );
  for (const row of rows) {
    if (row.problems.length > 0) console.log(`   ${row.store}, logged: ${row.problems.join("; ")}`);
  }
}

/** SQLite behind DynamoDB's latency, counting DynamoDB's request units. */
function latencyModelStore(path: string) {
  const counting = countRequestUnits(openSqliteStore({ path }));
  const latency = withLatency(counting);
  return { store: latency as ItemStore, latency, counting };
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-bench-"));
  let moto: Moto | undefined;
  let revokerAtDefaults: RevokerResult | undefined;
  let coldStart: ColdStartResult | undefined;
  let kmsCalls: KmsCallsResult | undefined;
  try {
    if (revokerScale) {
      const leases = scaleLeases;
      const model = latencyModelStore(join(dataDir, "revoker-scale.db"));
      await section(
        "revokerScale",
        `Revoker at scale: ${leases.toLocaleString("en")} leases due at once, one sweep a minute as scheduled`,
        async () => [
          await benchRevoker({
            ...model,
            storage: "dynamodb (latency model)",
            leases,
            schedule: SCHEDULED,
            progress: (message) => console.log(`   ${message}`),
          }),
        ],
        printRevoker,
      );
      return;
    }

    if (runs("kv-read")) {
      const seed = await createLocalBroker({ dataDir: join(dataDir, "kv") });
      const fixture = await writeKvFixture(seed);
      await seed.store.close();
      const broker = await createLocalBroker({ dataDir: join(dataDir, "kv") });
      const databasePath = join(dataDir, "kv", "coffer.db");
      const raw = openSqliteStore({ path: databasePath });
      const sync = openSyncKvRead(
        databasePath,
        fixture.pk,
        await baselineEnvelope(BENCH_SECRET, fixture.binding),
      );
      await section(
        "kvRead",
        "1. Warm KV read in-process on SQLite, interleaved with its baselines (per-round ratios of p50)",
        () =>
          benchKvRead({
            store: "sqlite",
            broker,
            raw,
            fixture,
            sync,
            rounds: quick ? 4 : 30,
            iterations: quick ? 50 : 150,
          }),
        (result) => {
          console.table(
            Object.keys(result.p50Ms).map((variant) => ({
              variant,
              "p50 ms": result.p50Ms[variant],
              "p99 ms": result.p99Ms[variant],
            })),
          );
          console.log(`   app / bare Hono:          ${ratio(result.appOverBareHono)}`);
          console.log(`   app / bare Hono, Web Crypto: ${ratio(result.appOverBareHonoWebCrypto)}`);
          if (result.appOverSync) console.log(`   app / sync + node:crypto: ${ratio(result.appOverSync)}`);
          console.log(`   policy token / root:      ${ratio(result.policyOverRoot)}`);
        },
      );
      sync.close();
      await raw.close();
      await broker.store.close();
    }

    if (runs("login")) {
      const broker = await createLocalBroker({ dataDir: join(dataDir, "login") });
      const { rootToken } = await writeKvFixture(broker);
      await section(
        "login",
        "2. Kubernetes login (RS256, keys cached) on SQLite, interleaved with verifying the token alone",
        () => benchLogin(broker, rootToken, { rounds: quick ? 2 : 20, iterations: quick ? 10 : 40 }),
        (result) => {
          console.table([
            { variant: "login", "p50 ms": result.loginP50Ms, "p99 ms": result.loginP99Ms },
            { variant: "jose verify", "p50 ms": result.verifyP50Ms },
          ]);
          console.log(`   login / verify: ${ratio(result.loginOverVerify)}`);
        },
      );
      await broker.store.close();
    }

    if (runs("revoker") || runs("costs")) {
      const rows: RevokerResult[] = [];
      const leases = quick ? 500 : 10_000;
      await section(
        "revoker",
        "3. Revoker: leases due at once; DynamoDB's latency modelled in front of SQLite",
        async () => {
          const model = latencyModelStore(join(dataDir, "revoker-defaults.db"));
          revokerAtDefaults = await benchRevoker({
            ...model,
            storage: "dynamodb (latency model)",
            leases,
            schedule: SCHEDULED,
          });
          rows.push(revokerAtDefaults);
          if (!runs("revoker")) return rows;
          for (const concurrency of [8, 32, 128, 512]) {
            const model = latencyModelStore(join(dataDir, `revoker-c${concurrency}.db`));
            rows.push(
              await benchRevoker({
                ...model,
                storage: "dynamodb (latency model)",
                leases: quick ? 200 : 1000,
                concurrency,
                schedule: BACK_TO_BACK,
              }),
            );
          }
          const sqlite = openSqliteStore({ path: join(dataDir, "revoker-sqlite.db") });
          rows.push(await benchRevoker({ store: sqlite, storage: "sqlite", leases: quick ? 200 : 1000 }));
          return rows;
        },
        printRevoker,
      );
    }

    if (runs("http")) {
      await section(
        "http",
        "4. Warm reads over HTTP: coffer dev vs the bare-Hono server, load from a separate process",
        () =>
          benchHttpConcurrency({ levels: [1, 8, 64], rounds: quick ? 1 : 3, durationMs: quick ? 500 : 2000 }),
        (result) => {
          console.table(
            result.levels.map((level) => ({
              concurrency: level.concurrency,
              "coffer dev req/s": level.cofferDev.perSecond,
              "p50 ms": level.cofferDev.p50Ms,
              "p99 ms": level.cofferDev.p99Ms,
              "bare Hono req/s": level.bareHono.perSecond,
              "bare p50 ms": level.bareHono.p50Ms,
              "bare p99 ms": level.bareHono.p99Ms,
              "coffer / bare": ratio(level.throughputRatio),
            })),
          );
          console.log(
            `   peak RSS under load: coffer dev ${result.peakRssMiB.cofferDev} MiB, bare Hono ${result.peakRssMiB.bareHono} MiB`,
          );
        },
      );
    }

    if ((runs("moto") || runs("costs")) && motoAvailable()) moto = await startMoto();
    if (runs("moto") && moto) await motoSections(moto);

    if (runs("costs")) {
      const callCpu = await section(
        "storeCallCpu",
        "6a. CPU per store call: SQLite, and the DynamoDB client's own share (against an endpoint that answers at once)",
        async () => {
          const calls = quick ? 50 : 300;
          const sqlite = openSqliteStore({ path: join(dataDir, "calls.db") });
          await benchStoreCallCpu(sqlite, "warm-up", 200);
          const result = {
            sqlite: await benchStoreCallCpu(sqlite, "sqlite", calls),
            dynamodb: await benchDynamoDbClientCpu(calls),
          };
          await sqlite.close();
          return result;
        },
        (result) => console.table([result.sqlite, result.dynamodb]),
      );
      const operations = await section(
        "operationCosts",
        "6b. Per operation, through the app on SQLite behind DynamoDB's latency (STS on moto)",
        () =>
          benchOperationCosts({
            ...latencyModelStore(join(dataDir, "operations.db")),
            samples: quick ? 20 : 200,
            moto,
          }),
        (rows: OperationCost[]) =>
          console.table(rows.map(({ calls, ...row }) => ({ ...row, calls: JSON.stringify(calls) }))),
      );
      if (revokerAtDefaults) {
        const revoker = revokerAtDefaults;
        await section(
          "costModel",
          "7. Cost model: dollars per million operations, and a month at 100 / 10,000 / 1,000,000 reads a day",
          async () =>
            costModel({
              operations,
              revoker,
              coldStartMs: coldStart?.rows[0]?.overheadMs ?? 0,
              kmsCallsPerColdStart: kmsCalls?.perColdStart ?? 1,
              callCpu,
            }),
          (model) => {
            console.log(
              `   CPU ms a DynamoDB client call costs beyond a SQLite call: ${JSON.stringify(model.extraCpuMsPerDynamoDbCall)}`,
            );
            console.log("   the scheduled revoker on Lambda, 100,000 leases due at once:");
            console.table(model.revokerOnLambda);
            console.table(model.perMillion);
            console.log(`   fixed per month: ${JSON.stringify(model.fixedPerMonth)}`);
            console.table(model.scenarios);
          },
        );
      }
    }

    if (runs("cli")) {
      await section(
        "cliStart",
        "8. The coffer command: start to exit and peak RSS, over an empty Node start",
        // Ten rounds and a one-minute sidecar (two renewals of its 30 s token) keep the whole
        // run under ten minutes; the script alone runs twenty and two minutes.
        () => benchCliStart(quick ? 3 : 10, quick ? 35 : 60),
        printCliStart,
      );
    }
  } finally {
    await moto?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  async function motoSections(moto: Moto) {
    const clientConfig = { region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials };
    const tableName = "coffer-bench";
    await createTable(new DynamoDBClient(clientConfig), tableName);
    const keyId = (await new KMSClient(clientConfig).send(new CreateKeyCommand({}))).KeyMetadata
      ?.KeyId as string;
    const revokerTable = "coffer-bench-revoker";
    await createTable(new DynamoDBClient(clientConfig), revokerTable);
    // moto is not safe with concurrent transactions (they fail with a 500, or a failed one
    // restores other tables from its snapshot), so the sweep's requests take turns on one
    // connection, as in test/contract/leases.test.ts. DynamoDB itself needs no such thing.
    // The sweep queues its requests behind that one connection on purpose: no warning.
    const oneConnection = {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }),
      socketAcquisitionWarningTimeout: 600_000,
    };
    await section(
      "revokerMoto",
      "5a. Revoker on DynamoDB (moto, one connection): every lease revoked at least once, repeats counted",
      async () => [
        await benchRevoker({
          store: createDynamoDbStore({
            client: new DynamoDBClient({ ...clientConfig, requestHandler: oneConnection }),
            tableName: revokerTable,
          }),
          storage: "dynamodb (moto)",
          leases: quick ? 50 : 200,
          issueConcurrency: 1,
          identities: 0,
        }),
      ],
      printRevoker,
    );
    const makeBroker = async () => {
      const kms = new KMSClient(clientConfig);
      const counts = countCommands(kms);
      const broker = await createAwsBroker({
        tableName,
        kmsKeyId: keyId,
        region: moto.region,
        endpoint: moto.endpoint,
        auditWriters: [() => {}],
        clients: { dynamodb: new DynamoDBClient(clientConfig), kms },
      });
      return { broker, counts, kms, keyId };
    };
    const first = await makeBroker();
    const fixture = await writeKvFixture(first.broker);
    await section(
      "kvReadMoto",
      "5b. Warm KV read on DynamoDB (moto), interleaved with the bare-Hono baseline",
      () =>
        benchKvRead({
          store: "dynamodb (moto)",
          broker: first.broker,
          raw: createDynamoDbStore({ client: new DynamoDBClient(clientConfig), tableName }),
          fixture,
          rounds: quick ? 2 : 5,
          iterations: quick ? 10 : 40,
        }),
      (result) => {
        console.table(
          Object.keys(result.p50Ms).map((variant) => ({ variant, "p50 ms": result.p50Ms[variant] })),
        );
        console.log(`   app / bare Hono: ${ratio(result.appOverBareHono)}`);
      },
    );
    kmsCalls = await section(
      "kmsCalls",
      "5c. KMS calls, counted at the KMS client (moto)",
      () =>
        benchKmsCalls(makeBroker, fixture.rootToken, { reads: quick ? 100 : 500, writes: quick ? 20 : 100 }),
      (result) => console.table([result]),
    );
    coldStart = await section(
      "coldStart",
      "5d. Cold start: import + first authenticated read (moto), over an empty Node start",
      () =>
        benchColdStart(
          {
            COFFER_TABLE: tableName,
            COFFER_KMS_KEY_ID: keyId,
            COFFER_REGION: moto.region,
            COFFER_AWS_ENDPOINT: moto.endpoint,
            AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
          },
          fixture.rootToken,
          quick ? 3 : 15,
        ),
      (result) => {
        console.table(result.rows);
        console.log(
          `   empty Node ${result.emptyNodeMs} ms (${result.emptyNodeCpuMs} ms CPU); overhead ratio, shipped / naive: ${result.overheadRatio} in wall time, ${result.cpuOverheadRatio} in CPU time (target <= 0.5)`,
        );
      },
    );
  }
}

await main();
