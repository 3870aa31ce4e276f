/**
 * The inline policy that revokes STS sessions early. STS credentials cannot be revoked
 * themselves; what can be done is to deny everything to the session on the role it
 * assumed. Two statements:
 *
 * - "CofferRevokedSessions": Deny on aws:userid = "<RoleId>:<session name>" for each
 *   revoked session, which hits exactly that session;
 * - "CofferRevokedIssuedBefore": Deny on aws:TokenIssueTime before a cutoff, which hits
 *   every session of the role issued before it. It is the fallback when the list would
 *   outgrow the policy size budget, and it revokes other sessions of the role too: their
 *   holders must fetch new credentials.
 *
 * Entries are pruned once the credentials they deny have expired anyway. All times are
 * epoch milliseconds; issue times are taken from AWS's own clock (expiration minus
 * duration), so a skewed local clock cannot move the cutoff past a revoked session.
 */

/** A revoked session: until when it must stay denied, and when AWS issued it. */
export interface DeniedSession {
  until: number;
  issued: number;
}

export interface DenyState {
  /** Keyed by aws:userid, "<RoleId>:<session name>". */
  sessions: Record<string, DeniedSession>;
  /** Every session issued before `cutoff` is denied until `until`. */
  issuedBefore: { cutoff: number; until: number } | null;
}

/**
 * IAM caps all inline policies of a role together at 10,240 characters (whitespace not
 * counted). Coffer keeps its own policy under this budget and leaves the rest to the role's
 * other inline policies; IAM's own LimitExceeded triggers the fallback too.
 */
export const DENY_POLICY_BUDGET = 6_144;

export const emptyDenyState = (): DenyState => ({ sessions: {}, issuedBefore: null });

/** Drops what has expired by `now`. */
export function prune(state: DenyState, now: number): DenyState {
  const sessions = Object.fromEntries(
    Object.entries(state.sessions).filter(([, session]) => session.until > now),
  );
  const issuedBefore = state.issuedBefore && state.issuedBefore.until > now ? state.issuedBefore : null;
  return { sessions, issuedBefore };
}

/**
 * Replaces the session list with one cutoff just after the newest listed session's issue
 * time (STS issue times have whole-second precision), kept until the last of them expires.
 */
export function collapse(state: DenyState): DenyState {
  let cutoff = state.issuedBefore?.cutoff ?? 0;
  let until = state.issuedBefore?.until ?? 0;
  for (const session of Object.values(state.sessions)) {
    cutoff = Math.max(cutoff, Math.floor(session.issued / 1000) * 1000 + 1000);
    until = Math.max(until, session.until);
  }
  return { sessions: {}, issuedBefore: { cutoff, until } };
}

/** The policy document, or null when nothing is denied. Compact JSON: what IAM counts. */
export function renderDenyPolicy(state: DenyState): string | null {
  const statements: unknown[] = [];
  const userIds = Object.keys(state.sessions).sort();
  if (userIds.length > 0) {
    statements.push({
      Sid: "CofferRevokedSessions",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:userid": userIds } },
    });
  }
  if (state.issuedBefore) {
    statements.push({
      Sid: "CofferRevokedIssuedBefore",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: {
        DateLessThan: { "aws:TokenIssueTime": new Date(state.issuedBefore.cutoff).toISOString() },
      },
    });
  }
  if (statements.length === 0) return null;
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The state with `additions` denied, collapsed to a cutoff when the list outgrows the budget. */
export function withDenied(
  state: DenyState,
  additions: Readonly<Record<string, DeniedSession>>,
  budget = DENY_POLICY_BUDGET,
): { state: DenyState; collapsed: boolean } {
  const next: DenyState = { ...state, sessions: { ...state.sessions, ...additions } };
  const document = renderDenyPolicy(next);
  if (document === null || document.length <= budget) return { state: next, collapsed: false };
  return { state: collapse(next), collapsed: true };
}

export function sameState(a: DenyState, b: DenyState): boolean {
  const canonical = (state: DenyState) =>
    JSON.stringify([Object.entries(state.sessions).sort(([x], [y]) => (x < y ? -1 : 1)), state.issuedBefore]);
  return canonical(a) === canonical(b);
}
