/**
 * Vault Agent's request sequence, replayed on the wire against `coffer dev` as its Go
 * client sends it, from hashicorp/vault:
 *
 * - command/agentproxyshared/auth/kubernetes/kubernetes.go and auth/auth.go: POST
 *   auth/<mount>/login {role, jwt} with the pod's token; auth.go then watches the token
 *   with api/lifetime_watcher.go, which renews it with PUT auth/token/renew-self
 *   {"increment": <the token's lease_duration>} before it expires, and logs in again
 *   when a renewal grants less than asked (the token reached its max TTL);
 * - the templates (consul-template, run by command/agent/template): before reading KV,
 *   the preflight GET sys/internal/ui/mounts/<path> learns the mount and its version
 *   (kvPreflightVersionRequest in command/kv_helpers.go does the same), then
 *   GET <mount>/data/<path>; a dynamic secret is read once and its lease renewed with
 *   PUT sys/leases/renew {lease_id, increment}.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { useDevServer } from "../support/dev-server.ts";
import { api } from "./cli-harness.ts";
import { goClientCall } from "./go-client.ts";

const ROOT = "replay-agent-root";

describe("Vault Agent's request sequence, replayed", () => {
  const server = useDevServer({ rootToken: ROOT });

  const wire = (method: string, path: string, token?: string, body?: unknown) =>
    goClientCall(server.url, method, path, token, body);

  beforeAll(async () => {
    await api(server.url, ROOT, "PUT", "sys/policies/acl/app", {
      policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
    });
    await api(server.url, ROOT, "POST", "auth/kubernetes/role/app", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "shop",
      token_policies: "app",
      token_ttl: "10m",
      token_max_ttl: "15m",
    });
    await api(server.url, ROOT, "POST", "secret/data/app/config", { data: { db: "postgres://db" } });
  });

  it("logs in, renews on the lifetime watcher's schedule, preflights and reads templates", async () => {
    const jwt = await requestDevToken(server.url, { namespace: "shop", serviceAccount: "app" });
    const login = await wire("POST", "auth/kubernetes/login", undefined, { role: "app", jwt });
    expect(login.status).toBe(200);
    const auth = login.body.auth;
    expect(auth).toMatchObject({ renewable: true, lease_duration: 600 });
    const token: string = auth.client_token;

    // The lifetime watcher asks for the token's own lease_duration each time.
    const renewed = await wire("PUT", "auth/token/renew-self", token, { increment: auth.lease_duration });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth).toMatchObject({ client_token: token, renewable: true });
    // Vault grants exactly the increment: the watcher derives its schedule from it.
    expect(renewed.body.auth.lease_duration).toBe(600);

    // The template's preflight, then the read at the path it names.
    const preflight = await wire("GET", "sys/internal/ui/mounts/secret/app/config", token);
    expect(preflight.status).toBe(200);
    expect(preflight.body.data).toMatchObject({ path: "secret/", type: "kv", options: { version: "2" } });
    const secret = await wire("GET", "secret/data/app/config", token);
    expect(secret.body.data.data).toEqual({ db: "postgres://db" });

    // The preflight answers for the mount; the read outside the policy is refused.
    expect((await wire("GET", "secret/data/other/x", token)).status).toBe(403);
  });
});
