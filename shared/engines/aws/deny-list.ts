/**
 * The revoked sessions of each IAM role, kept in two places: the item store holds the
 * authoritative list (strongly consistent, changed only by conditional writes on a
 * revision), and IAM holds its rendering as an inline policy on the role. IAM's reads are
 * eventually consistent, so the policy is always rendered from the store and written
 * whole, never edited from what IAM returns.
 *
 * Every change is stored first, then written to IAM; after writing, the store is read
 * again and, if another process changed the list meanwhile, the newer list is written, so
 * concurrent revokers converge on the newest list. A process that dies between the two
 * leaves the store ahead of IAM: its revocation failed, is retried, and the retry writes
 * the policy again.
 *
 * Within one process, concurrent revocations on the same role are batched into one store
 * write and one IAM call, so revoking a thousand sessions is not a thousand policy writes.
 *
 * The list belongs to the role, not to a mount: every aws mount of the deployment shares it
 * and its one policy. Disabling a mount leaves the entries of sessions it revoked that have
 * not expired yet (removing them would let those sessions act again), and whichever mount
 * next revokes on the role, or prunes after a revocation, drops them once expired; so
 * enabling and disabling mounts never adds policies to a role. Two deployments sharing a
 * role must not overwrite each other's policy: the name carries an id of the deployment.
 */
import { DeleteRolePolicyCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { awsErrorCode } from "../../aws-errors.ts";
import { CofferError, isCofferError } from "../../errors.ts";
import type { Item, ItemKey, ItemStore, WriteOp } from "../../store/item-store.ts";
import { awsFailure } from "./aws-errors.ts";
import type { AwsClients } from "./clients.ts";
import {
  collapse,
  type DeniedSession,
  type DenyState,
  emptyDenyState,
  prune,
  renderDenyPolicy,
  sameState,
  withDenied,
} from "./deny-policy.ts";
import { denyKey, denyPolicyNameKey } from "./storage.ts";

const CONFLICT_ATTEMPTS = 8;
const CONVERGE_ATTEMPTS = 3;

export interface DenyResult {
  /** The list outgrew the budget and became a Deny on aws:TokenIssueTime. */
  collapsed: boolean;
  /** The TokenIssueTime cutoff in force after the change (epoch ms), if any. */
  cutoff?: number;
}

export interface DenyList {
  /** Denies the sessions (keyed by aws:userid) on the role, pruning what has expired. */
  deny(roleArn: string, sessions: Readonly<Record<string, DeniedSession>>): Promise<DenyResult>;
  /** Removes the entries whose credentials have expired. */
  prune(roleArn: string): Promise<void>;
}

/** "arn:aws:iam::123456789012:role/path/name" -> "name". */
export function roleNameOf(roleArn: string): string {
  const match = /^arn:[\w-]+:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/.exec(roleArn);
  if (!match?.[1]) throw new CofferError("ERR_INVALID_REQUEST", `not an IAM role ARN: ${roleArn}`);
  return match[1];
}

function stateFromItem(item: Item | undefined): DenyState {
  if (!item) return emptyDenyState();
  const sessions = (item.sessions ?? {}) as Record<string, { until: number; issued: number }>;
  const issuedBefore = item.issued_before as { cutoff: number; until: number } | null | undefined;
  return {
    sessions: Object.fromEntries(
      Object.entries(sessions).map(([id, session]) => [
        id,
        { until: Number(session.until), issued: Number(session.issued) },
      ]),
    ),
    issuedBefore: issuedBefore
      ? { cutoff: Number(issuedBefore.cutoff), until: Number(issuedBefore.until) }
      : null,
  };
}

export const DENY_POLICY_PREFIX = "coffer-revoked-sessions-";

/** The deployment's deny policy name, chosen once by whichever process needs it first. */
export async function denyPolicyName(store: ItemStore, now: number): Promise<string> {
  const existing = await store.get(denyPolicyNameKey);
  if (existing) return String(existing.name);
  const id = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0"));
  const name = `${DENY_POLICY_PREFIX}${id.join("")}`;
  try {
    await store.write([
      {
        op: "put",
        item: { ...denyPolicyNameKey, name, created_at: new Date(now).toISOString() },
        condition: { exists: false },
      },
    ]);
    return name;
  } catch (error) {
    if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
    const chosen = await store.get(denyPolicyNameKey);
    if (!chosen) throw error;
    return String(chosen.name);
  }
}

export function createDenyList(options: {
  store: ItemStore;
  now: () => number;
  clients: () => Promise<AwsClients>;
}): DenyList {
  const { store, now } = options;
  let policyName: Promise<string> | undefined;

  async function writePolicy(roleArn: string, state: DenyState): Promise<void> {
    const { iam } = await options.clients();
    policyName ??= denyPolicyName(store, now()).catch((error) => {
      policyName = undefined;
      throw error;
    });
    const PolicyName = await policyName;
    const RoleName = roleNameOf(roleArn);
    const document = renderDenyPolicy(state);
    if (document === null) {
      try {
        await iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }));
      } catch (error) {
        if (awsErrorCode(error) !== "NoSuchEntity" && awsErrorCode(error) !== "NoSuchEntityException") {
          throw awsFailure(`remove the deny policy of ${roleArn}`, error);
        }
      }
      return;
    }
    await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: document }));
  }

  /**
   * Stores `state` if the item still has the revision it was read with, and returns the new
   * revision; undefined when someone changed it first. The item is never deleted (only
   * emptied), so revisions only grow and a stale writer can never match a recreated item.
   */
  async function saveState(
    key: ItemKey,
    item: Item | undefined,
    state: DenyState,
  ): Promise<number | undefined> {
    const revision = item ? Number(item.revision) : 0;
    const op: WriteOp = {
      op: "put",
      item: {
        ...key,
        revision: revision + 1,
        sessions: { ...state.sessions } as unknown as Item[string],
        issued_before: state.issuedBefore ? { ...state.issuedBefore } : null,
        updated_at: new Date(now()).toISOString(),
      },
      condition: item ? { attribute: "revision", equals: revision } : { exists: false },
    };
    try {
      await store.write([op]);
      return revision + 1;
    } catch (error) {
      if (isCofferError(error, "ERR_CONDITION_FAILED")) return undefined;
      throw error;
    }
  }

  /** After writing IAM: if the stored list moved on meanwhile, write the newer one too. */
  async function converge(key: ItemKey, roleArn: string, written: number): Promise<void> {
    let last = written;
    for (let attempt = 0; attempt < CONVERGE_ATTEMPTS; attempt++) {
      const item = await store.get(key);
      const revision = item ? Number(item.revision) : 0;
      if (revision === last) return;
      await writePolicy(roleArn, stateFromItem(item));
      last = revision;
    }
  }

  async function apply(
    roleArn: string,
    additions: Readonly<Record<string, DeniedSession>>,
  ): Promise<DenyResult> {
    const key = denyKey(roleArn);
    let forceCollapse = false;
    for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt++) {
      const item = await store.get(key);
      const before = stateFromItem(item);
      const next = withDenied(prune(before, now()), additions);
      const state = forceCollapse && !next.collapsed ? collapse(next.state) : next.state;
      const collapsed = next.collapsed || forceCollapse;
      const adding = Object.keys(additions).length > 0;
      let revision = item ? Number(item.revision) : 0;
      if (!sameState(before, state)) {
        const stored = await saveState(key, item, state);
        if (stored === undefined) continue;
        revision = stored;
      } else if (!adding) {
        return { collapsed: false };
      }
      try {
        await writePolicy(roleArn, state);
      } catch (error) {
        const code = awsErrorCode(error);
        if (!forceCollapse && (code === "LimitExceeded" || code === "LimitExceededException")) {
          // The role's other inline policies leave less room than the budget assumed.
          forceCollapse = true;
          continue;
        }
        throw awsFailure(`write the deny policy of ${roleArn}`, error);
      }
      await converge(key, roleArn, revision);
      return { collapsed, cutoff: state.issuedBefore?.cutoff };
    }
    throw new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `the deny list of ${roleArn} kept changing; retry later`,
    );
  }

  // Changes waiting for the role's current write to finish, merged into the next one.
  const pending = new Map<
    string,
    {
      additions: Record<string, DeniedSession>;
      waiters: { resolve: (r: DenyResult) => void; reject: (e: unknown) => void }[];
    }
  >();
  const running = new Set<string>();

  async function drain(roleArn: string): Promise<void> {
    running.add(roleArn);
    try {
      for (let batch = pending.get(roleArn); batch; batch = pending.get(roleArn)) {
        pending.delete(roleArn);
        try {
          const result = await apply(roleArn, batch.additions);
          for (const waiter of batch.waiters) waiter.resolve(result);
        } catch (error) {
          for (const waiter of batch.waiters) waiter.reject(error);
        }
      }
    } finally {
      running.delete(roleArn);
    }
  }

  function enqueue(roleArn: string, additions: Readonly<Record<string, DeniedSession>>): Promise<DenyResult> {
    return new Promise((resolve, reject) => {
      let batch = pending.get(roleArn);
      if (!batch) {
        batch = { additions: {}, waiters: [] };
        pending.set(roleArn, batch);
      }
      Object.assign(batch.additions, additions);
      batch.waiters.push({ resolve, reject });
      if (!running.has(roleArn)) void drain(roleArn);
    });
  }

  return {
    deny: (roleArn, sessions) => enqueue(roleArn, sessions),
    async prune(roleArn) {
      await enqueue(roleArn, {});
    },
  };
}
