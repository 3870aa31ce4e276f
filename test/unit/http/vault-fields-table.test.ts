/**
 * Across every route that takes a path parameter, with every operation it serves: the
 * parameters repeated in the body (or the query of a read) are fields, as in Vault, and
 * `mount_point` (which a popular Node client sends everywhere) is ignored and named in
 * Vault's warning; Vault's own schema fields Coffer does not use (`plugin_name` on
 * sys/mounts and sys/auth, `id` and `lease` on auth/token/create) are accepted. No answer
 * may be a refusal of those fields. A last check proves the table misses no such route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Route } from "../../../shared/engines/engine.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";

const IGNORED = "Endpoint ignored these unrecognized parameters: [mount_point]";
const REPLACED = (names: string[]) =>
  `Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [${names.join(" ")}]`;
const POLICY = 'path "secret/*" { capabilities = ["read"] }';
const CREATION = `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;

type Method = "GET" | "LIST" | "POST" | "PUT" | "PATCH" | "DELETE";
type Entry = [Method, string, Record<string, unknown>?];

const OPERATION: Record<Method, string> = {
  GET: "read",
  LIST: "list",
  POST: "write",
  PUT: "write",
  PATCH: "patch",
  DELETE: "delete",
};

describe("path parameters and unknown fields across every route", () => {
  let subject: LeaseDeployment;
  const leases: string[] = [];
  let ciphertext = "";
  let signature = "";
  let migrationId = "";

  async function send(method: Method, path: string, data: Record<string, unknown>) {
    const reads = method === "GET" || method === "LIST";
    const query = reads ? `?${new URLSearchParams(data as Record<string, string>)}` : "";
    const response = await subject.app.request(`/v1/${path}${query}`, {
      method,
      headers: {
        "X-Vault-Token": subject.rootToken,
        "Content-Type": method === "PATCH" ? "application/merge-patch+json" : "application/json",
      },
      body: reads ? undefined : JSON.stringify(data),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  async function routeOf(
    path: string,
  ): Promise<{ key: string; route: Route; captures: Record<string, string> }> {
    const resolved = await subject.broker.mounts.resolve(path);
    if (!resolved) throw new Error(`no mount for ${path}`);
    for (const route of (await subject.broker.engineFor(resolved.mount)).routes) {
      const match = route.pattern.exec(resolved.rest);
      if (!match) continue;
      const captures = Object.fromEntries(
        Object.entries(match.groups ?? {}).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      );
      return { key: `${resolved.mount.path} ${route.pattern.source}`, route, captures };
    }
    throw new Error(`no route for ${path}`);
  }

  beforeAll(async () => {
    subject = await openLeaseDeployment();
    for (const [path, type] of [
      ["transit", "transit"],
      ["aws", "aws"],
      ["database", "database"],
      ["moving", "kv"],
    ]) {
      expect((await send("POST", `sys/mounts/${path}`, { type })).status).toBe(204);
    }
    expect((await send("POST", "sys/auth/kubernetes", { type: "kubernetes" })).status).toBe(204);
    for (const name of ["a", "b", "c", "d", "x", "y", "z", "w"]) {
      leases.push((await send("GET", `t/creds/${name}`, {})).body.lease_id);
    }
    expect((await send("POST", "transit/keys/k", {})).status).toBe(200);
    ciphertext = (await send("POST", "transit/encrypt/k", { plaintext: "aGk=" })).body.data.ciphertext;
    expect((await send("POST", "transit/keys/sk", { type: "ed25519" })).status).toBe(200);
    signature = (await send("POST", "transit/sign/sk", { input: "aGk=" })).body.data.signature;
    migrationId = (await send("POST", "sys/remount", { from: "moving", to: "moved" })).body.data.migration_id;
  });
  afterAll(() => subject?.close());

  const table = (): Entry[] => [
    ["POST", "sys/mounts/kv1", { type: "kv", plugin_name: "kv", plugin_version: "" }],
    ["GET", "sys/mounts/kv1"],
    ["POST", "sys/mounts/kv1/tune", { description: "tuned" }],
    ["GET", "sys/mounts/kv1/tune"],
    ["POST", "kv1/app", { user: "app" }],
    ["GET", "kv1/app"],
    ["LIST", "kv1/"],
    ["DELETE", "kv1/app"],
    ["POST", "secret/data/app", { data: { a: "1" } }],
    ["GET", "secret/data/app"],
    ["PATCH", "secret/data/app", { data: { b: "2" } }],
    ["GET", "secret/subkeys/app"],
    ["POST", "secret/delete/app", { versions: [1] }],
    ["POST", "secret/undelete/app", { versions: [1] }],
    ["POST", "secret/destroy/app", { versions: [1] }],
    ["POST", "secret/metadata/app", { max_versions: 5 }],
    ["PATCH", "secret/metadata/app", { max_versions: 6 }],
    ["GET", "secret/metadata/app"],
    ["LIST", "secret/metadata/"],
    ["DELETE", "secret/data/app"],
    ["DELETE", "secret/metadata/app"],
    ["POST", "transit/keys/k2"],
    ["GET", "transit/keys/k"],
    ["POST", "transit/keys/k/config", { deletion_allowed: true }],
    ["POST", "transit/keys/k/rotate"],
    ["POST", "transit/keys/k/trim", { min_available_version: 1 }],
    ["POST", "transit/encrypt/k", { plaintext: "aGk=" }],
    ["POST", "transit/decrypt/k", { ciphertext }],
    ["POST", "transit/rewrap/k", { ciphertext }],
    ["POST", "transit/datakey/plaintext/k"],
    ["POST", "transit/sign/sk", { input: "aGk=" }],
    ["POST", "transit/verify/sk", { input: "aGk=", signature }],
    ["POST", "transit/hmac/k/sha2-512", { input: "aGk=" }],
    ["GET", "transit/export/public-key/sk/1"],
    ["POST", "transit/hash/sha2-512", { input: "aGk=" }],
    ["POST", "transit/random/platform/16"],
    ["DELETE", "transit/keys/k"],
    [
      "POST",
      "auth/kubernetes/role/r",
      { bound_service_account_names: "a", bound_service_account_namespaces: "b", audience: "coffer" },
    ],
    ["GET", "auth/kubernetes/role/r"],
    ["DELETE", "auth/kubernetes/role/r"],
    ["POST", "aws/roles/r", { role_arns: "arn:aws:iam::123456789012:role/x" }],
    ["GET", "aws/roles/r"],
    // No aws/config/root: the request stops at the missing configuration, after its fields.
    ["GET", "aws/creds/r"],
    ["POST", "aws/sts/r", { ttl: "15m" }],
    ["DELETE", "aws/roles/r"],
    [
      "POST",
      "database/config/pg",
      {
        plugin_name: "postgresql-database-plugin",
        connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/app",
        username: "u",
        password: "p",
        verify_connection: false,
        allowed_roles: "ro",
      },
    ],
    ["GET", "database/config/pg"],
    ["POST", "database/roles/ro", { db_name: "pg", creation_statements: CREATION }],
    ["GET", "database/roles/ro"],
    ["POST", "database/reset/pg"],
    ["DELETE", "database/roles/ro"],
    ["GET", "database/creds/ro"],
    ["POST", "database/rotate-root/nothing"],
    ["DELETE", "database/config/pg"],
    ["PUT", "sys/policies/acl/p", { policy: POLICY }],
    ["GET", "sys/policies/acl/p"],
    ["DELETE", "sys/policies/acl/p"],
    ["PUT", "sys/policy/p2", { policy: POLICY }],
    ["GET", "sys/policy/p2"],
    ["DELETE", "sys/policy/p2"],
    ["POST", "sys/auth/k8s2", { type: "kubernetes", plugin_name: "kubernetes" }],
    ["GET", "sys/auth/k8s2"],
    ["POST", "sys/auth/k8s2/tune", { description: "tuned" }],
    ["GET", "sys/auth/k8s2/tune"],
    ["DELETE", "sys/auth/k8s2"],
    ["GET", "sys/internal/ui/mounts/secret"],
    ["GET", `sys/remount/status/${migrationId}`],
    ["LIST", "sys/leases/lookup/t/creds/"],
    ["PUT", `sys/leases/renew/${leases[0]}`, { increment: 30 }],
    ["PUT", `sys/renew/${leases[0]}`, { increment: 30 }],
    ["PUT", `sys/leases/revoke/${leases[1]}`],
    ["PUT", `sys/revoke/${leases[2]}`],
    ["PUT", "sys/leases/revoke-prefix/t/creds/x"],
    ["PUT", "sys/revoke-prefix/t/creds/y"],
    ["PUT", "sys/leases/revoke-force/t/creds/z"],
    ["PUT", "sys/revoke-force/t/creds/w"],
    ["PUT", "sys/leases/revoke-identity/nobody"],
    ["POST", "auth/token/create", { id: "", lease: "1h", policies: ["default"] }],
    ["POST", "auth/token/roles/deployer", { allowed_policies: ["default"] }],
    ["GET", "auth/token/roles/deployer"],
    ["POST", "auth/token/create/deployer", { policies: ["default"] }],
    ["DELETE", "auth/token/roles/deployer"],
    ["DELETE", "sys/mounts/kv1"],
  ];

  const covered = new Set<string>();

  it("takes every path parameter repeated in the data, and ignores mount_point with Vault's warning", async () => {
    let envelopes = 0;
    for (const [method, path, body = {}] of table()) {
      const { key, route, captures } = await routeOf(path);
      covered.add(`${key} ${OPERATION[method]}`);
      const reply = await send(method, path, { ...body, ...captures, mount_point: "anything" });
      const errors: string[] = reply.body?.errors ?? [];
      const aboutFields = errors.filter((error) =>
        [...Object.keys(captures), "mount_point", "plugin_name", "plugin_version", "id", "lease"].some(
          (name) =>
            error.includes(`"${name}"`) || error.includes(name === "mount_point" ? name : `"${name}"`),
        ),
      );
      expect({ method, path, aboutFields, unknown: errors.some((e) => /unknown field/.test(e)) }).toEqual({
        method,
        path,
        aboutFields: [],
        unknown: false,
      });
      if (reply.body?.request_id === undefined || route.takesArbitraryData) continue;
      envelopes++;
      const given = Object.entries(captures).filter(([, value]) => value !== "");
      const expected = [IGNORED, ...(given.length > 0 ? [REPLACED(given.map(([name]) => name).sort())] : [])];
      expect({ method, path, warnings: reply.body.warnings }, path).toEqual({
        method,
        path,
        warnings: expect.arrayContaining(expected),
      });
    }
    // Most answers carry a body: the warnings were checked, not skipped.
    expect(envelopes).toBeGreaterThanOrEqual(30);
  });

  it("leaves out no route that takes a path parameter, nor any of its operations", async () => {
    const expected: string[] = [];
    for (const mount of await subject.broker.mounts.list()) {
      if (mount.type === "leasing" || mount.path === "moved/") continue;
      for (const route of (await subject.broker.engineFor(mount)).routes) {
        if (!Object.values(route.fields).some((field) => "path" in field)) continue;
        const operations = new Set(
          Object.keys(route.operations).map((op) => (op === "create" || op === "update" ? "write" : op)),
        );
        for (const op of operations) expected.push(`${mount.path} ${route.pattern.source} ${op}`);
      }
    }
    const missing = expected.filter((key) => !covered.has(key));
    expect(missing).toEqual([]);
  });
});
