import { describe, expect, it } from "vitest";
import { MAX_SESSION_NAME, sessionIdentityOf } from "../../../shared/engines/aws/session-identity.ts";
import { provenIdentity, tokenRecord } from "../../support/token-record.ts";

describe("STS session identity", () => {
  it("names the session for the proven service account, with a random suffix, and tags it", () => {
    const identity = provenIdentity("payments", "api");
    const first = sessionIdentityOf(tokenRecord({ identity }));
    const second = sessionIdentityOf(tokenRecord({ identity }));
    expect(first.sessionName).toMatch(/^api@payments_[a-z0-9]{10}$/);
    expect(second.sessionName).not.toBe(first.sessionName);
    expect(first.tags).toEqual([
      { Key: "kubernetes-namespace", Value: "payments" },
      { Key: "kubernetes-service-account", Value: "api" },
    ]);
  });

  it("never reads the token's meta", () => {
    const meta = { service_account_namespace: "payments", service_account_name: "api" };
    const forged = sessionIdentityOf(tokenRecord({ meta, displayName: "token-x" }));
    expect(forged.sessionName).toMatch(/^token-x_/);
    expect(forged.tags).toEqual([]);
    const other = sessionIdentityOf(tokenRecord({ meta, identity: provenIdentity("shop", "web") }));
    expect(other.sessionName).toMatch(/^web@shop_/);
  });

  it("stays within STS's 64 characters and its alphabet whatever the names", () => {
    const long = sessionIdentityOf(
      tokenRecord({ identity: provenIdentity("n".repeat(63), "s".repeat(253)) }),
    );
    expect(long.sessionName.length).toBe(MAX_SESSION_NAME);
    expect(long.tags[1]?.Value).toBe("s".repeat(253));
    const odd = sessionIdentityOf(tokenRecord({ displayName: "root token (ünïcode) /x" }));
    expect(odd.sessionName).toMatch(/^[\w+=,.@-]+$/);
    expect(odd.tags).toEqual([]);
  });
});
