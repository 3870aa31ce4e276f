import { describe, expect, it } from "vitest";
import { MAX_SESSION_NAME, sessionIdentityOf } from "../../../shared/engines/aws/session-identity.ts";
import { tokenRecord } from "../../support/token-record.ts";

describe("STS session identity", () => {
  it("names the session for the service account, with a random suffix, and tags it", () => {
    const meta = { service_account_namespace: "payments", service_account_name: "api" };
    const first = sessionIdentityOf(tokenRecord({ meta }));
    const second = sessionIdentityOf(tokenRecord({ meta }));
    expect(first.sessionName).toMatch(/^api@payments_[a-z0-9]{10}$/);
    expect(second.sessionName).not.toBe(first.sessionName);
    expect(first.tags).toEqual([
      { Key: "kubernetes-namespace", Value: "payments" },
      { Key: "kubernetes-service-account", Value: "api" },
    ]);
  });

  it("reads the identity a login recorded on the token", () => {
    const identity = sessionIdentityOf(
      tokenRecord({
        identity: {
          mountAccessor: "auth_kubernetes_1",
          aliasName: "uid",
          metadata: { service_account_namespace: "shop", service_account_name: "web" },
        },
      }),
    );
    expect(identity.sessionName).toMatch(/^web@shop_/);
  });

  it("stays within STS's 64 characters and its alphabet whatever the names", () => {
    const long = sessionIdentityOf(
      tokenRecord({
        meta: { service_account_namespace: "n".repeat(63), service_account_name: "s".repeat(253) },
      }),
    );
    expect(long.sessionName.length).toBe(MAX_SESSION_NAME);
    expect(long.tags[1]?.Value).toBe("s".repeat(253));
    const odd = sessionIdentityOf(tokenRecord({ displayName: "root token (ünïcode) /x" }));
    expect(odd.sessionName).toMatch(/^[\w+=,.@-]+$/);
    expect(odd.tags).toEqual([]);
  });
});
