/**
 * A token tree of 10,000 tokens, each holding one lease, revoked by the revoker's sweeps:
 * the tree's root is revoked as a request that ran out of time leaves it (marked, nothing
 * walked), then sweeps run back to back with the scheduled revoker's budget (45 s), as its
 * ticks would without the minute between them, until nothing is due. Prints how many
 * sweeps it took and how long, and checks that no token and no lease of the tree is left.
 * The engine is the lease test engine, whose revoke does no remote work: this measures the
 * token walk, the lease manager and the store.
 *
 *   npx tsx scripts/bench/token-tree.ts [--fanout 100] [--budget-ms 45000] [--sqlite <file>]
 *
 * The tree is a root, `fanout` children and `fanout - 1` grandchildren under each child:
 * 1 + 100 + 100 * 99 = 10,001 tokens by default.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { childrenPartition, TOKEN_SHARDS, tokenIndexPartition } from "../../shared/auth/tokens/token-keys.ts";
import { callerOf, type TokenRecord } from "../../shared/auth/tokens/token-store.ts";
import type { Mount } from "../../shared/engines/mount.ts";
import { EXPIRY_SHARDS, expiryPartition } from "../../shared/leases/lease-keys.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { openLeaseDeployment } from "../../test/support/lease-deployment.ts";
import { TEST_LEASE_TYPE } from "../../test/support/lease-test-engine.ts";
import { allItems } from "../../test/support/store-items.ts";

const { values } = parseArgs({
  options: {
    fanout: { type: "string", default: "100" },
    "budget-ms": { type: "string", default: "45000" },
    sqlite: { type: "string" },
  },
});
const fanout = Number(values.fanout);
const budgetMs = Number(values["budget-ms"]);
const dir = mkdtempSync(join(tmpdir(), "coffer-token-tree-"));
const store = openSqliteStore({ path: values.sqlite ?? join(dir, "coffer.db") });

try {
  const { broker, engine } = await openLeaseDeployment({ store, path: "bench" });
  const mount = (await broker.mounts.resolve("bench/creds/x"))?.mount as Mount;

  let tokens = 0;
  async function grow(parent: TokenRecord | undefined): Promise<TokenRecord> {
    const { record } = await broker.tokens.create({
      policies: ["default"],
      displayName: "token-bench",
      path: "auth/token/create",
      ttl: 3600,
      maxTtl: 7200,
      ...(parent ? { parent } : {}),
    });
    await broker.leases.issue({
      path: "bench/creds/tree",
      type: TEST_LEASE_TYPE,
      mount,
      caller: callerOf(record),
      expiresAt: broker.now() + 3_600_000,
      renewable: false,
      data: {},
    });
    tokens++;
    return record;
  }

  const building = performance.now();
  const root = await grow(undefined);
  for (let i = 0; i < fanout; i++) {
    const child = await grow(root);
    for (let j = 0; j < fanout - 1; j++) await grow(child);
  }
  const builtMs = performance.now() - building;
  console.log(`built ${tokens} tokens and ${tokens} leases in ${(builtMs / 1000).toFixed(1)} s`);

  // What a request that ran out of time leaves: the root marked, its tree untouched.
  const marked = await broker.tokens.revoke(root, { deadline: broker.now() });
  if (marked.complete) throw new Error("the revocation was not cut short");

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const sweeps: { ms: number; tokens: number; complete: boolean }[] = [];
  for (;;) {
    const sweepStarted = performance.now();
    const report = await broker.leases.sweep({ budgetMs });
    sweeps.push({
      ms: Math.round(performance.now() - sweepStarted),
      tokens: report.tokens_revoked,
      complete: report.complete,
    });
    if (report.failed > 0) throw new Error(`a sweep failed: ${JSON.stringify(report)}`);
    if (report.complete && report.tokens_due === 0 && report.due === 0) break;
    if (sweeps.length > 100) throw new Error("the sweeps do not finish");
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  const left = {
    tokens: (
      await Promise.all(
        Array.from({ length: TOKEN_SHARDS }, (_, shard) => allItems(store, tokenIndexPartition(shard))),
      )
    )
      .flat()
      .filter((entry) => entry.token_hmac !== undefined && entry.state !== "active").length,
    children: (await allItems(store, childrenPartition(root.accessor))).length,
    leases: (await allItems(store, "lease/bench")).length,
    expiry: (
      await Promise.all(
        Array.from({ length: EXPIRY_SHARDS }, (_, shard) => allItems(store, expiryPartition(shard))),
      )
    ).flat().length,
  };
  const stillLive = (await broker.tokens.listAccessors()).length;
  if (
    Object.values(left).some((count) => count > 0) ||
    stillLive > 1 ||
    engine.revokeCalls.length !== tokens
  ) {
    throw new Error(
      `left behind: ${JSON.stringify(left)}, ${stillLive} live tokens, ${engine.revokeCalls.length} of ${tokens} leases revoked`,
    );
  }
  const withWork = sweeps.filter((sweep) => sweep.tokens > 0).length;
  console.log(
    `revoked ${tokens} tokens and ${tokens} leases in ${sweeps.length} sweeps ` +
      `(${withWork} with work; budget ${budgetMs} ms each), ${(elapsedMs / 1000).toFixed(1)} s in all, ` +
      `${Math.round(tokens / (elapsedMs / 1000))} tokens/s; ${cpuSeconds.toFixed(1)} s of CPU ` +
      "(on a machine shared with others, the CPU time says more than the wall time)",
  );
  console.table(sweeps);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
