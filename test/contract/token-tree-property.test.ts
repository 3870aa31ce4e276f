/**
 * Random sequences of creating tokens (children, no_parent, create-orphan), taking
 * leases, renewing, revoking (self, by token, by accessor, revoke-orphan), letting time
 * pass and sweeping, some of them at once, checked against a model of the tree:
 *
 * - no token outlives an ancestor's revocation: once a revocation answered, the token and
 *   every descendant are unusable and their leases gone; once a sweep ran, so are the
 *   token and the descendants of every token that had expired;
 * - nothing else dies: a token whose line is live and unexpired is usable, its leases live;
 * - no orphan without the privilege: a token without sudo (and without a policy on
 *   create-orphan) never makes one; a token is an orphan exactly when the model says so.
 *
 * Run on SQLite and on DynamoDB (moto). `npm test` runs a bounded number of cases;
 * COFFER_PROPERTY_RUNS runs more, as for the lease properties.
 */
import { Agent } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import type { Reply } from "../support/http.ts";
import { openLeaseDeployment } from "../support/lease-deployment.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { frozenClock } from "../support/test-clock.ts";

const LONG_RUNS = Number(process.env.COFFER_PROPERTY_RUNS ?? 0);

/** A maker: root (-1) or the n-th token made so far (modulo their number). */
type Maker = number;

type Op =
  | { kind: "create"; maker: Maker; how: "child" | "no_parent" | "create-orphan"; sudo: boolean; ttl: number }
  | { kind: "lease"; token: number }
  | { kind: "renew"; token: number; increment: number }
  | { kind: "revoke"; token: number; how: "self" | "token" | "accessor" | "orphan" }
  | { kind: "advance"; ms: number }
  | { kind: "sweep" };

const index = fc.nat({ max: 30 });
const apiOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      maker: fc.integer({ min: -1, max: 30 }),
      how: fc.constantFrom(
        "child" as const,
        "child" as const,
        "no_parent" as const,
        "create-orphan" as const,
      ),
      sudo: fc.boolean(),
      ttl: fc.constantFrom(60, 600, 3600),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("lease" as const), token: index }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("renew" as const),
      token: index,
      increment: fc.constantFrom(60, 600, 3600),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("revoke" as const),
      token: index,
      how: fc.constantFrom("self" as const, "token" as const, "accessor" as const, "orphan" as const),
    }),
  },
);
/** A step: one to three API calls at once, or time passing, or a sweep. */
const step: fc.Arbitrary<Op[]> = fc.oneof(
  { weight: 6, arbitrary: fc.array(apiOp, { minLength: 1, maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .record({ kind: fc.constant("advance" as const), ms: fc.constantFrom(30_000, 300_000, 1_200_000) })
      .map((op) => [op]),
  },
  { weight: 1, arbitrary: fc.constant<Op[]>([{ kind: "sweep" }]) },
);

interface Modelled {
  token: string;
  accessor: string;
  /** Index of the parent in the model, ROOT for the root token's children, null for an orphan. */
  parent: number | null;
  /** Made with sudo and a policy on create-orphan: it may make orphans. */
  sudo: boolean;
  expiresAt: number;
  /** Revoked, with an ancestor, or swept after it or an ancestor expired. */
  dead: boolean;
  leases: string[];
}

/** The parent of the root token's children: never revoked here. */
const ROOT = -1;

const SUDO_POLICY = `
  path "auth/token/create" { capabilities = ["update", "sudo"] }
  path "auth/token/create-orphan" { capabilities = ["update"] }`;
const TREE_POLICY = `
  path "auth/token/create" { capabilities = ["update"] }
  path "t/creds/*" { capabilities = ["read"] }`;

async function runCase(openStore: () => Promise<ItemStore>, steps: Op[][]): Promise<void> {
  const store = await openStore();
  const clock = frozenClock();
  const { broker, call, rootToken: root } = await openLeaseDeployment({ store, clock });
  await call("POST", "sys/policies/acl/tree", { policy: TREE_POLICY });
  await call("POST", "sys/policies/acl/orphans", { policy: SUDO_POLICY });
  const model: Modelled[] = [];
  const violations: string[] = [];
  const pick = (n: number) => (model.length === 0 ? undefined : n % model.length);
  const expired = (t: Modelled) => clock.now() >= t.expiresAt;
  const line = (i: number): Modelled[] => {
    const chain: Modelled[] = [];
    for (let at: number | null = i; at !== null && at !== ROOT; at = (model[at] as Modelled).parent) {
      chain.push(model[at] as Modelled);
    }
    return chain;
  };
  /** Dead now, with every descendant (by the model's parent pointers). */
  function kill(i: number) {
    (model[i] as Modelled).dead = true;
    model.forEach((t, j) => {
      if (t.parent === i && !t.dead) kill(j);
    });
  }

  try {
    for (const ops of steps) {
      const revocations: { target: number; orphan: boolean; reply: Reply }[] = [];
      await Promise.all(
        ops.map(async (op) => {
          if (op.kind === "advance") return clock.advance(op.ms);
          if (op.kind === "sweep") {
            for (let sweeps = 0; sweeps < 3; sweeps++) {
              const report = await broker.leases.sweep({ budgetMs: 60_000 });
              if (report.complete && report.tokens_due === 0) break;
            }
            model.forEach((t, i) => {
              if (!t.dead && line(i).some(expired)) kill(i);
            });
            return;
          }
          if (op.kind === "create") {
            const makerIndex = op.maker < 0 ? undefined : pick(op.maker);
            const maker = makerIndex === undefined ? undefined : (model[makerIndex] as Modelled);
            const privileged = maker === undefined || maker.sudo;
            const sudo = op.sudo && privileged;
            const reply = await call(
              "POST",
              op.how === "create-orphan" ? "auth/token/create-orphan" : "auth/token/create",
              {
                policies: sudo ? ["tree", "orphans"] : ["tree"],
                ttl: op.ttl,
                no_parent: op.how === "no_parent",
              },
              maker?.token ?? root,
            );
            if (reply.status !== 200) return;
            const orphan = op.how !== "child";
            if (op.how !== "child" && !privileged)
              violations.push(`an orphan made without privilege: ${JSON.stringify(op)}`);
            if (maker && (maker.dead || expired(maker)))
              violations.push(`an unusable token made a token: ${JSON.stringify(op)}`);
            model.push({
              token: reply.body.auth.client_token,
              accessor: reply.body.auth.accessor,
              parent: orphan ? null : (makerIndex ?? ROOT),
              sudo,
              expiresAt: clock.now() + reply.body.auth.lease_duration * 1000,
              dead: false,
              leases: [],
            });
            return;
          }
          const i = pick(op.token);
          if (i === undefined) return;
          const target = model[i] as Modelled;
          if (op.kind === "lease") {
            const reply = await call("GET", "t/creds/x?ttl=86400", undefined, target.token);
            if (reply.status === 200) target.leases.push(reply.body.lease_id);
          } else if (op.kind === "renew") {
            const reply = await call(
              "POST",
              "auth/token/renew-self",
              { increment: op.increment },
              target.token,
            );
            if (reply.status === 200) target.expiresAt = clock.now() + reply.body.auth.lease_duration * 1000;
          } else {
            const reply =
              op.how === "self"
                ? await call("POST", "auth/token/revoke-self", undefined, target.token)
                : op.how === "token"
                  ? await call("POST", "auth/token/revoke", { token: target.token })
                  : op.how === "accessor"
                    ? await call("POST", "auth/token/revoke-accessor", { accessor: target.accessor })
                    : await call("POST", "auth/token/revoke-orphan", { token: target.token });
            revocations.push({ target: i, orphan: op.how === "orphan", reply });
          }
        }),
      );
      // Revocations last: whatever attached to a token while it was revoked died with it.
      for (const { target, orphan, reply } of revocations) {
        const t = model[target] as Modelled;
        if (reply.status === 204) {
          if (orphan) {
            t.dead = true;
            for (const child of model) if (child.parent === target) child.parent = null;
          } else kill(target);
        } else if (!(t.dead || expired(t)) && !orphan) {
          violations.push(`revoking a usable token answered ${reply.status}: ${JSON.stringify(reply.body)}`);
        }
      }

      for (const [i, t] of model.entries()) {
        const lookup = await call("GET", "auth/token/lookup-self", undefined, t.token);
        const mustBeDead = t.dead || expired(t);
        const mustLive = !mustBeDead && !line(i).some(expired);
        if (mustBeDead && lookup.status !== 403) violations.push(`token ${i} outlived its revocation`);
        if (mustLive && lookup.status !== 200)
          violations.push(`token ${i} died with its line live (${lookup.status})`);
        if (lookup.status === 200 && lookup.body.data.orphan !== (t.parent === null)) {
          violations.push(
            `token ${i} says orphan=${lookup.body.data.orphan}, the model ${t.parent === null}`,
          );
        }
        for (const id of t.leases) {
          const live = (await call("PUT", "sys/leases/lookup", { lease_id: id })).status === 200;
          if (t.dead && live) violations.push(`lease ${id} of token ${i} outlived its token`);
          if (mustLive && !live) violations.push(`lease ${id} of live token ${i} died`);
        }
      }
      if (violations.length > 0) break;
    }
  } finally {
    await store.close();
  }
  expect(violations).toEqual([]);
}

function treeProperty(openStore: () => Promise<ItemStore>, bounded: { runs: number; timeLimitMs: number }) {
  const runs = LONG_RUNS > 0 ? LONG_RUNS : bounded.runs;
  it(
    `no token or lease outlives an ancestor's revocation, and no orphan comes without the privilege (${runs} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), (steps) =>
          runCase(openStore, steps),
        ),
        {
          numRuns: runs,
          ...(LONG_RUNS > 0
            ? {}
            : { interruptAfterTimeLimit: bounded.timeLimitMs, markInterruptAsFailure: false }),
        },
      );
    },
    LONG_RUNS > 0 ? LONG_RUNS * 60_000 : bounded.timeLimitMs * 3,
  );
}

describe("token tree properties on SQLite", () => {
  treeProperty(async () => openSqliteStore({ path: ":memory:" }), { runs: 40, timeLimitMs: 30_000 });
});

describe.skipIf(!motoAvailable())("token tree properties on DynamoDB (moto)", () => {
  const moto = useMoto();
  let tables = 0;
  treeProperty(
    async () => {
      const tableName = `tree-property-${++tables}`;
      const client = new DynamoDBClient({
        ...motoClientConfig(moto),
        // moto is not safe with concurrent transactions (test/contract/leases.test.ts).
        requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
      });
      await createTable(client, tableName);
      return createDynamoDbStore({ client, tableName });
    },
    { runs: 10, timeLimitMs: 60_000 },
  );
});
