/**
 * Section 7: what one operation costs in the resources AWS bills, measured through the
 * real app on SQLite behind DynamoDB's latency (latency-store.ts) and DynamoDB's request
 * unit accounting (request-units.ts): DynamoDB calls and request units, round trips on
 * the critical path, STS calls (counted on the wire, through a proxy in front of moto that
 * only forwards), audit bytes (what CloudWatch Logs ingests), CPU time and
 * wall time per operation. The cost model (cost-model.ts) prices these.
 *
 * Reads run with the token and mount caches warm (a busy function) and expired (a quiet
 * one: both caches last 5 s). The credential issue is the aws engine's, with STS on moto;
 * without moto it is left out. KMS calls are counted in their own section: none of these
 * operations makes one once the keyring is open.
 */
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import type { Hono } from "hono";
import { createRevoker } from "../../functions/revoker.ts";
import { createApp } from "../../shared/app.ts";
import { TOKEN_CACHE_MS } from "../../shared/auth/tokens/token-store.ts";
import { MOUNT_CACHE_MS } from "../../shared/mounts/mount-table.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { MOTO_ACCESS_KEY, MOTO_SECRET_KEY } from "../../test/support/aws-engine-fixture.ts";
import { type FaultProxy, startFaultProxy } from "../../test/support/fault-proxy.ts";
import type { Moto } from "../../test/support/moto.ts";
import { openBenchBroker } from "./bench-broker.ts";
import { SECRET_URL, writeKvFixture } from "./kv-fixture.ts";
import type { LatencyStore } from "./latency-store.ts";
import { setUpKubernetesLogin } from "./login.ts";
import { cpuMs, median, round } from "./measure.ts";
import type { CountingStore } from "./request-units.ts";

export interface OperationCost {
  operation: string;
  samples: number;
  /** DynamoDB calls per operation, by operation name. */
  calls: Record<string, number>;
  roundTrips: number;
  readUnits: number;
  writeUnits: number;
  stsCalls: number;
  /** Audit records (and the revoker's report line) in bytes: what CloudWatch Logs ingests. */
  auditBytes: number;
  /** Log events those bytes make (CloudWatch bills 26 bytes more per event). */
  logEvents: number;
  /** CPU time per operation: the median over blocks of operations, and the least block. */
  cpuMs: number;
  cpuMsMin: number;
  /** On this machine, behind the latency model. */
  wallMs: number;
}

const CPU_BLOCKS = 5;

const TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
});

export async function benchOperationCosts(options: {
  /** The store stack: latency(counting(SQLite)). */
  store: ItemStore;
  latency: LatencyStore;
  counting: CountingStore;
  samples: number;
  moto?: Moto;
}): Promise<OperationCost[]> {
  const { latency, counting, samples } = options;
  latency.enabled = false;
  const { broker, clock, audit } = await openBenchBroker(options.store, "dynamodb (latency model)");
  const fixture = await writeKvFixture(broker);
  const app = createApp(broker, { logError: () => {} });
  const root = { "X-Vault-Token": fixture.rootToken };
  const post = async (path: string, body: unknown) => {
    const response = await app.request(`/v1/${path}`, {
      method: "POST",
      headers: root,
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  };
  await post("sys/policies/acl/bench-creds", {
    policy: JSON.stringify({ path: { "aws/creds/*": { capabilities: ["read"] } } }),
  });
  const kubernetes = await setUpKubernetesLogin(broker, fixture.rootToken, ["bench-read", "bench-creds"]);
  const workloadToken = await kubernetes.login();
  const proxy = options.moto && (await startFaultProxy(options.moto.endpoint));
  if (options.moto && proxy) await configureAwsEngine(post, options.moto, proxy);
  const stsCalls = () => proxy?.requests.filter((request) => request.service === "sts").length ?? 0;

  const measure = async (operation: string, run: () => Promise<unknown>, before?: () => void) => {
    await run(); // loads the code the operation needs: not what is measured
    latency.enabled = true;
    latency.reset();
    counting.reset();
    const stsBefore = stsCalls();
    const auditBefore = { ...audit };
    let wall = 0;
    // CPU time per block of operations: contention on a shared machine only ever adds to it,
    // so the blocks' spread shows how much of it is the machine's.
    const cpuPerBlock: number[] = [];
    const blockSize = Math.ceil(samples / CPU_BLOCKS);
    for (let done = 0; done < samples; done += blockSize) {
      const block = Math.min(blockSize, samples - done);
      const { cpuMs: cpu } = await cpuMs(async () => {
        for (let i = 0; i < block; i++) {
          before?.();
          const start = performance.now();
          await run();
          wall += performance.now() - start;
        }
      });
      cpuPerBlock.push(cpu / block);
    }
    latency.enabled = false;
    const per = (n: number) => round(n / samples, 3);
    return {
      operation,
      samples,
      calls: Object.fromEntries(Object.entries(counting.units.calls).map(([name, n]) => [name, per(n)])),
      roundTrips: per(latency.sequentialRoundTrips),
      readUnits: per(counting.units.readUnits),
      writeUnits: per(counting.units.writeUnits),
      stsCalls: per(stsCalls() - stsBefore),
      auditBytes: Math.round((audit.bytes - auditBefore.bytes) / samples),
      logEvents: per(audit.records - auditBefore.records),
      cpuMs: round(median(cpuPerBlock), 3),
      cpuMsMin: round(Math.min(...cpuPerBlock), 3),
      wallMs: per(wall),
    };
  };

  const get = (app: Hono, path: string, token: string) => async () => {
    const response = await app.request(path, { headers: { "X-Vault-Token": token } });
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  const readSecret = get(app, SECRET_URL, workloadToken);
  const costs: OperationCost[] = [];
  try {
    costs.push(await measure("read, caches warm", readSecret));
    const expireCaches = () => clock.advance(Math.max(TOKEN_CACHE_MS, MOUNT_CACHE_MS) + 1);
    costs.push(await measure("read, caches expired", readSecret, expireCaches));
    costs.push(await measure("login", kubernetes.login));
    if (proxy) {
      costs.push(
        await measure("credential issue (aws engine)", get(app, "/v1/aws/creds/app", workloadToken)),
      );
    }
    // The scheduled function itself: its sweep, its report line, its housekeeping.
    const tick = createRevoker(broker, (level, message, fields) => {
      const line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields });
      audit.bytes += Buffer.byteLength(line) + 1;
      audit.records++;
    });
    const context = { getRemainingTimeInMillis: () => 60_000 };
    costs.push(await measure("revoker tick, nothing due", () => tick({}, context)));
  } finally {
    await proxy?.close();
  }
  return costs;
}

/** Mounts aws/ with STS and IAM on moto, through `proxy`, and a role `app` to assume. */
async function configureAwsEngine(
  post: (path: string, body: unknown) => Promise<void>,
  moto: Moto,
  proxy: FaultProxy,
): Promise<void> {
  const iam = new IAMClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials });
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: `bench-${crypto.randomUUID()}`,
      AssumeRolePolicyDocument: TRUST_POLICY,
    }),
  );
  await post("sys/mounts/aws", { type: "aws" });
  await post("aws/config/root", {
    region: moto.region,
    sts_endpoint: proxy.endpoint,
    iam_endpoint: proxy.endpoint,
    access_key: MOTO_ACCESS_KEY,
    secret_key: MOTO_SECRET_KEY,
  });
  await post("aws/roles/app", { credential_type: "assumed_role", role_arns: [String(role.Role?.Arn)] });
}
