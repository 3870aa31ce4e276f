import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  collapse,
  DENY_POLICY_BUDGET,
  type DeniedSession,
  emptyDenyState,
  prune,
  renderDenyPolicy,
  withDenied,
} from "../../../shared/engines/aws/deny-policy.ts";

const session = (
  i: number,
  until = 2_000_000_000_000,
  issued = 1_999_999_000_000 + i * 1000,
): [string, DeniedSession] => [
  `AROAEXAMPLEROLEID0001:api@payments_${String(i).padStart(10, "0")}`,
  { until, issued },
];

describe("the deny policy", () => {
  it("is absent when nothing is denied", () => {
    expect(renderDenyPolicy(emptyDenyState())).toBeNull();
  });

  it("denies exactly the listed sessions by aws:userid", () => {
    const state = { sessions: Object.fromEntries([session(2), session(1)]), issuedBefore: null };
    expect(JSON.parse(renderDenyPolicy(state) as string)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CofferRevokedSessions",
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { StringEquals: { "aws:userid": [session(1)[0], session(2)[0]] } },
        },
      ],
    });
  });

  it("prunes what has expired", () => {
    const state = {
      sessions: Object.fromEntries([session(1, 1000), session(2, 3000)]),
      issuedBefore: { cutoff: 500, until: 2000 },
    };
    expect(prune(state, 2000)).toEqual({
      sessions: Object.fromEntries([session(2, 3000)]),
      issuedBefore: null,
    });
  });

  it("collapses to one cutoff just after the newest session, kept until the last expires", () => {
    const state = {
      sessions: Object.fromEntries([
        session(1, 5000, 1_700_000_000_400),
        session(2, 9000, 1_700_000_002_900),
      ]),
      issuedBefore: { cutoff: 1_600_000_000_000, until: 7000 },
    };
    expect(collapse(state)).toEqual({
      sessions: {},
      issuedBefore: { cutoff: 1_700_000_003_000, until: 9000 },
    });
    const rendered = JSON.parse(renderDenyPolicy(collapse(state)) as string);
    expect(rendered.Statement[0].Condition).toEqual({
      DateLessThan: { "aws:TokenIssueTime": new Date(1_700_000_003_000).toISOString() },
    });
  });

  it("stays within the budget, collapsing when the list would not, and never stops denying a revoked session", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 50 }), (existing, added) => {
        const state = {
          sessions: Object.fromEntries(Array.from({ length: existing }, (_, i) => session(i))),
          issuedBefore: null,
        };
        const additions = Object.fromEntries(Array.from({ length: added }, (_, i) => session(1000 + i)));
        const next = withDenied(state, additions);
        const document = renderDenyPolicy(next.state) as string;
        expect(document.length).toBeLessThanOrEqual(DENY_POLICY_BUDGET);
        for (const [userId, denied] of Object.entries({ ...state.sessions, ...additions })) {
          const listed = userId in next.state.sessions;
          const coveredByCutoff =
            next.state.issuedBefore !== null && denied.issued < next.state.issuedBefore.cutoff;
          expect(listed || coveredByCutoff).toBe(true);
        }
        expect(next.collapsed).toBe(next.state.issuedBefore !== null);
      }),
      { numRuns: 50 },
    );
  });
});
