/**
 * No audit record, no action: the request record is written before any handler runs, so
 * a request whose record cannot be written changes nothing, whatever it asks for; and a
 * body nested too deep is refused while it is parsed, before anything happens, with a
 * record of the refusal.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../../shared/http/json-body.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { clusterKey, mintProjected } from "../../support/cluster-keys.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const ISSUER = "https://cluster.example";

/** `{"<field>": [[[...]]]}` nested `depth` levels below the field. */
function nestedBody(depth: number, fields: Record<string, unknown> = {}): string {
  const prefix = JSON.stringify(fields).slice(0, -1);
  const separator = Object.keys(fields).length > 0 ? "," : "";
  return `${prefix}${separator}"nested":${"[".repeat(depth)}${"]".repeat(depth)}}`;
}

describe("audit before act", () => {
  let dir: string;
  let subject: Deployment;
  let disk: Database.Database;
  /** Every item of the table in key order, read from the disk: what a request changed. */
  let table: () => unknown[];
  let jwt: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "coffer-audited-"));
    const path = join(dir, "coffer.db");
    subject = await openDeployment({ store: openSqliteStore({ path }) });
    disk = new Database(path, { readonly: true });
    const select = disk.prepare("SELECT pk, sk, attrs FROM items ORDER BY pk, sk");
    table = () => select.all();
    const { call } = subject;
    const key = await clusterKey("ES256");
    const setup: [string, string, unknown][] = [
      ["POST", "secret/data/app/existing", { data: { password: "one" } }],
      ["POST", "sys/policies/acl/keep", { policy: 'path "secret/*" { capabilities = ["read"] }' }],
      ["POST", "sys/mounts/team", { type: "kv-v2" }],
      ["POST", "sys/auth/kubernetes", { type: "kubernetes" }],
      ["POST", "auth/kubernetes/config", { issuer: ISSUER, pem_keys: [key.pem] }],
      [
        "POST",
        "auth/kubernetes/role/app",
        {
          bound_service_account_names: "app",
          bound_service_account_namespaces: "default",
          audience: "coffer",
          token_policies: "default",
        },
      ],
    ];
    for (const [method, path, body] of setup) {
      expect({ path, status: (await call(method, path, body)).status }).toEqual({
        path,
        status: path.startsWith("secret/") ? 200 : 204,
      });
    }
    jwt = await mintProjected(key, { issuer: ISSUER, audience: "coffer" });
  });
  afterAll(async () => {
    disk?.close();
    await subject?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every kind of operation that changes something, and what it sends. */
  const operations = (): [string, string, string, Record<string, unknown>][] => [
    ["write", "POST", "secret/data/app/new", { data: { password: "two" } }],
    ["delete", "DELETE", "secret/metadata/app/existing", {}],
    ["policy delete", "DELETE", "sys/policies/acl/keep", {}],
    ["unmount", "DELETE", "sys/mounts/team", {}],
    ["login", "POST", "auth/kubernetes/login", { role: "app", jwt }],
    ["token create", "POST", "auth/token/create", { policies: ["default"] }],
  ];

  it("runs no handler when the request record cannot be written: 500, nothing changed", async () => {
    for (const [kind, method, path, body] of operations()) {
      const before = table();
      subject.auditFails = true;
      const reply = await subject.call(method, path, body);
      subject.auditFails = false;
      expect({ kind, status: reply.status, body: reply.body }).toEqual({
        kind,
        status: 500,
        body: { errors: ["internal error"] },
      });
      expect({ kind, unchanged: table() }).toEqual({ kind, unchanged: before });
    }
    // The same requests, audited, do change the table: the refusals above were not vacuous.
    for (const [kind, method, path, body] of operations()) {
      const before = table();
      const reply = await subject.call(method, path, body);
      expect({ kind, ok: reply.status < 300 }).toEqual({ kind, ok: true });
      expect({ kind, changed: table() }).not.toEqual({ kind, changed: before });
    }
  });

  it("writes the request record before the handler runs and the response record after", async () => {
    const seen: { type: string; secretStored: boolean }[] = [];
    const stored = () => table().some((row) => (row as { pk: string }).pk.endsWith("/app/ordered"));
    subject.onAudit = (record) => seen.push({ type: record.type, secretStored: stored() });
    const reply = await subject.call("POST", "secret/data/app/ordered", { data: { password: "three" } });
    subject.onAudit = undefined;
    expect(reply.status).toBe(200);
    expect(seen).toEqual([
      { type: "request", secretStored: false },
      { type: "response", secretStored: true },
    ]);
  });

  it(`refuses a body nested deeper than ${MAX_JSON_DEPTH} levels before anything happens`, async () => {
    await subject.call("POST", "sys/policies/acl/keep", { policy: 'path "x" { capabilities = ["read"] }' });
    await subject.call("POST", "sys/mounts/team", { type: "kv-v2" });
    const deep = 6_000;
    const tooDeep = {
      status: 400,
      error: `the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
    };
    const cases: [string, string, string, { status: number; error: string }][] = [
      ["POST", "secret/data/app/deep", nestedBody(deep, { data: { password: "four" } }), tooDeep],
      // Fields no handler reads, on methods whose body is otherwise ignored.
      ["DELETE", "sys/policies/acl/keep", nestedBody(deep), tooDeep],
      ["DELETE", "sys/mounts/team", nestedBody(deep), tooDeep],
      ["POST", "auth/token/create", nestedBody(deep, { policies: ["default"] }), tooDeep],
      ["PATCH", "secret/data/app/existing", nestedBody(MAX_JSON_DEPTH + 1), tooDeep],
      // A route that needs no token counts each level as a value, and stops sooner.
      [
        "POST",
        "auth/kubernetes/login",
        nestedBody(deep, { role: "app", jwt }),
        { status: 413, error: "the request body holds more than 64 values" },
      ],
    ];
    for (const [method, path, body, refusal] of cases) {
      const before = table();
      const audited = subject.audit.length;
      const reply = await subject.call(method, path, body);
      expect({ path, status: reply.status, errors: reply.body.errors }).toEqual({
        path,
        status: refusal.status,
        errors: [refusal.error],
      });
      expect({ path, unchanged: table() }).toEqual({ path, unchanged: before });
      const records = subject.audit.slice(audited);
      expect(records).toEqual([
        expect.objectContaining({ type: "response", request: expect.objectContaining({ path }) }),
      ]);
      expect(records[0].response.status).toBe(refusal.status);
    }
    // At the limit, a body is accepted and audited (every string hashed).
    const atLimit = await subject.call(
      "POST",
      "secret/data/app/deep",
      nestedBody(MAX_JSON_DEPTH - 2, { data: { a: "b" } }),
    );
    expect(atLimit.status).toBe(200);
  });
});
