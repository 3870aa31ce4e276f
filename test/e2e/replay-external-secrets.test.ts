/**
 * The request sequence of External Secrets Operator's Vault provider, replayed on the wire
 * against `coffer dev` as its Go client (hashicorp/vault/api) sends it, from
 * external-secrets/external-secrets providers/v1/vault/:
 *
 * - auth_kubernetes.go: POST auth/<mount>/login {role, jwt} with the service account token;
 * - auth.go (checkToken): GET auth/token/lookup-self before each use of a token; it needs
 *   `type`, a numeric `ttl` and `expire_time` (RFC 3339, or null);
 * - client_get.go: GET <mount>/data/<key> and ?version=<n>;
 * - client_get_all_secrets.go (find): a recursive list of <mount>/metadata/<path>/ (the Go
 *   client sends LIST as GET ?list=true), then GET <mount>/metadata/<key> for the
 *   custom_metadata that find-by-tags matches, then the data of each match;
 * - auth.go (revokeTokenIfValid), on close: lookup-self, then PUT auth/token/revoke-self.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { useDevServer } from "../support/dev-server.ts";
import { api } from "./cli-harness.ts";
import { goClientCall } from "./go-client.ts";

const ROOT = "replay-eso-root";

describe("External Secrets Operator's Vault provider, replayed", () => {
  const server = useDevServer({ rootToken: ROOT });

  const wire = (method: string, path: string, token?: string, body?: unknown) =>
    goClientCall(server.url, method, path, token, body);

  beforeAll(async () => {
    await api(server.url, ROOT, "PUT", "sys/policies/acl/eso", {
      policy: [
        'path "secret/data/apps/*" { capabilities = ["read"] }',
        'path "secret/metadata/apps/*" { capabilities = ["read", "list"] }',
        'path "secret/metadata/apps" { capabilities = ["list"] }',
      ].join("\n"),
    });
    await api(server.url, ROOT, "POST", "auth/kubernetes/role/eso", {
      bound_service_account_names: "external-secrets",
      bound_service_account_namespaces: "external-secrets",
      token_policies: "eso",
      token_ttl: "1h",
    });
    for (const [path, data, tags] of [
      ["apps/payments/db", { password: "one" }, { team: "payments" }],
      ["apps/payments/api", { key: "k" }, { team: "payments" }],
      ["apps/search/db", { password: "s" }, { team: "search" }],
    ] as const) {
      await api(server.url, ROOT, "POST", `secret/data/${path}`, { data });
      await api(server.url, ROOT, "POST", `secret/metadata/${path}`, { custom_metadata: tags });
    }
    await api(server.url, ROOT, "POST", "secret/data/apps/payments/db", { data: { password: "two" } });
  });

  it("logs in, checks its token, gets, finds by name and tags, and revokes its token on close", async () => {
    const jwt = await requestDevToken(server.url, {
      namespace: "external-secrets",
      serviceAccount: "external-secrets",
    });
    const login = await wire("POST", "auth/kubernetes/login", undefined, { role: "eso", jwt });
    expect(login.status).toBe(200);
    const token: string = login.body.auth.client_token;

    const check = await wire("GET", "auth/token/lookup-self", token);
    expect(check.status).toBe(200);
    expect(check.body.data.type).toBe("service");
    expect(Number.isInteger(check.body.data.ttl)).toBe(true);
    expect(check.body.data.ttl).toBeGreaterThan(60);
    expect(Number.isNaN(Date.parse(check.body.data.expire_time))).toBe(false);

    const latest = await wire("GET", "secret/data/apps/payments/db", token);
    expect(latest.body.data).toMatchObject({ data: { password: "two" }, metadata: { version: 2 } });
    const first = await wire("GET", "secret/data/apps/payments/db?version=1", token);
    expect(first.body.data.data).toEqual({ password: "one" });

    // find: the recursive listing client_get_all_secrets.go walks, from the store's path.
    const found: string[] = [];
    const walk = async (path: string): Promise<void> => {
      const listed = await wire("GET", `secret/metadata/${path}?list=true`, token);
      expect(listed.status).toBe(200);
      for (const key of listed.body.data.keys as string[]) {
        if (key.endsWith("/")) await walk(`${path}${key}`);
        else found.push(`${path}${key}`);
      }
    };
    await walk("apps/");
    expect(found.sort()).toEqual(["apps/payments/api", "apps/payments/db", "apps/search/db"]);
    const tagged: string[] = [];
    for (const name of found) {
      const metadata = await wire("GET", `secret/metadata/${name}`, token);
      if (metadata.body.data.custom_metadata?.team === "payments") tagged.push(name);
    }
    expect(tagged.sort()).toEqual(["apps/payments/api", "apps/payments/db"]);
    for (const name of tagged) expect((await wire("GET", `secret/data/${name}`, token)).status).toBe(200);

    // Close: revokeTokenIfValid.
    expect((await wire("GET", "auth/token/lookup-self", token)).status).toBe(200);
    expect((await wire("PUT", "auth/token/revoke-self", token)).status).toBe(204);
    expect((await wire("GET", "auth/token/lookup-self", token)).status).toBe(403);
  });
});
