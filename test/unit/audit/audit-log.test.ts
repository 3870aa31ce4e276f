/**
 * Audit records: what is hashed, in both modes (numbers and booleans in clear as in Vault,
 * or hashed too when configured), at any depth a record can be written with, and when
 * the key is needed at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditLog, createAuditLog } from "../../../shared/audit/audit-log.ts";
import { deriveHmacKey, type HmacKey, hmacHex } from "../../../shared/crypto/hmac.ts";
import { openKeyring } from "../../../shared/crypto/keyring.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import type { ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

// biome-ignore lint/suspicious/noExplicitAny: records are walked by the assertions.
type Json = any;

describe("audit records", () => {
  let store: ItemStore;
  let key: HmacKey;
  const hashed = (value: string) => `hmac-sha256:${hmacHex(key, value)}`;

  beforeAll(async () => {
    store = openSqliteStore({ path: ":memory:" });
    const keyring = await openKeyring(
      store,
      createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32))),
    );
    key = await deriveHmacKey(keyring, "audit");
  });
  afterAll(() => store?.close());

  function logTo(lines: Json[], options: { hashNonStrings?: boolean; keyFails?: boolean } = {}): AuditLog {
    return createAuditLog({
      writers: [(line) => void lines.push(JSON.parse(line))],
      key: async () => {
        if (options.keyFails) throw new Error("key unavailable");
        return key;
      },
      hashNonStrings: options.hashNonStrings,
    });
  }

  it("hashes a value nested as deep as a line can be written, without recursing per level", async () => {
    // JSON.stringify itself stops near 5,000 levels; hashing must not stop before it.
    const depth = 4_000;
    let nested: Json = "innermost";
    for (let i = 0; i < depth; i++) nested = i % 2 ? { k: nested } : [nested];
    const lines: Json[] = [];
    await logTo(lines).record({
      requestId: "r",
      operation: "read",
      path: "p",
      status: 200,
      responseData: nested,
    });
    let found: Json = lines[0].response.data;
    for (let i = 0; i < depth; i++) found = Array.isArray(found) ? found[0] : found.k;
    expect(found).toBe(hashed("innermost"));
  });

  it("keeps keys and order as sent, __proto__ included", async () => {
    const data = JSON.parse('{"z":"1","__proto__":{"polluted":"yes"},"a":["x",{"b":"y"}]}');
    const lines: Json[] = [];
    const audited = await logTo(lines).request({
      requestId: "r",
      operation: "create",
      path: "p",
      requestData: data,
    });
    await audited.response({ status: 204 });
    const logged = lines[0].request.data;
    expect(Object.keys(logged)).toEqual(["z", "__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(logged, "__proto__")?.value).toEqual({ polluted: hashed("yes") });
    expect(logged.a).toEqual([hashed("x"), { b: hashed("y") }]);
    expect(({} as Json).polluted).toBeUndefined();
  });

  it("leaves numbers and booleans in clear by default, as Vault does, and hashes them when asked", async () => {
    const data = { port: 5432, enabled: true, ratio: 0.5, name: "db", none: null };
    const clear: Json[] = [];
    const all: Json[] = [];
    for (const [lines, hashNonStrings] of [
      [clear, false],
      [all, true],
    ] as const) {
      const audited = await logTo(lines, { hashNonStrings }).request({
        requestId: "r",
        operation: "create",
        path: "p",
        requestData: data,
      });
      await audited.response({ status: 200, responseData: { data } });
    }
    expect(clear[0].request.data).toEqual({
      port: 5432,
      enabled: true,
      ratio: 0.5,
      name: hashed("db"),
      none: null,
    });
    const everything = {
      port: hashed("5432"),
      enabled: hashed("true"),
      ratio: hashed("0.5"),
      name: hashed("db"),
      none: null,
    };
    expect(all[0].request.data).toEqual(everything);
    expect(all[1].response.data).toEqual({ data: everything });
  });

  it("hashes alike before and after the key is loaded, and the caller's identity however many callers came", async () => {
    const lines: Json[] = [];
    const audit = logTo(lines);
    const read = { requestId: "r", operation: "read", path: "p", status: 200 };
    const workload = {
      accessor: "accessor-0",
      metadata: { service_account_name: "app", service_account_namespace: "shop" },
    };
    const workloadAuth = {
      accessor: hashed("accessor-0"),
      metadata: { service_account_name: hashed("app"), service_account_namespace: hashed("shop") },
    };
    // The first record loads the key; later ones hash as they are built.
    await audit.record({ ...read, responseData: { a: "secret" } });
    await audit.record({ ...read, ...workload });
    // More callers than the identity hashes kept: the first ones are hashed again.
    for (let n = 1; n <= 4200; n++) await audit.record({ ...read, accessor: `accessor-${n}` });
    await audit.record({ ...read, responseData: { a: "secret" }, ...workload });
    expect(lines[0].response.data).toEqual({ a: hashed("secret") });
    expect(lines[1].auth).toEqual(workloadAuth);
    expect(lines[lines.length - 2].auth.accessor).toBe(hashed("accessor-4200"));
    expect(lines[lines.length - 1].auth).toEqual(workloadAuth);
    expect(lines[lines.length - 1].response.data).toEqual({ a: hashed("secret") });
  });

  it("needs the key only when there is something to hash", async () => {
    const lines: Json[] = [];
    const audit = logTo(lines, { keyFails: true });
    await audit.record({
      requestId: "r",
      operation: "update",
      path: "secret/data/x",
      status: 403,
      error: "denied",
    });
    expect(lines).toHaveLength(1);
    await expect(
      audit.request({ requestId: "r", operation: "update", path: "p", requestData: { a: "secret" } }),
    ).rejects.toThrow("key unavailable");
    await expect(
      audit.request({ requestId: "r", operation: "read", path: "p", accessor: "acc" }),
    ).rejects.toThrow("key unavailable");
    expect(lines).toHaveLength(1);
  });
});

describe("hashing numbers and booleans, configured on the broker", () => {
  let subjects: Deployment[] = [];
  afterAll(async () => {
    for (const subject of subjects) await subject.close();
    subjects = [];
  });

  it("hashes them in a KV write's record only when the broker is told to", async () => {
    const written: Json[] = [];
    for (const hashNonStrings of [false, true]) {
      const subject = await openDeployment({ auditHashNonStrings: hashNonStrings });
      subjects.push(subject);
      const reply = await subject.call("POST", "secret/data/app/db", {
        data: { port: 5432, tls: false, user: "app" },
      });
      expect(reply.status).toBe(200);
      const record = subject.audit.find(
        (line) => line.type === "request" && line.request.path === "secret/data/app/db",
      );
      written.push({
        data: record.request.data.data,
        hash: (value: string) => subject.broker.audit.hash(value),
      });
    }
    const [inClear, hashedToo] = written;
    expect(inClear.data).toEqual({ port: 5432, tls: false, user: await inClear.hash("app") });
    expect(hashedToo.data).toEqual({
      port: await hashedToo.hash("5432"),
      tls: await hashedToo.hash("false"),
      user: await hashedToo.hash("app"),
    });
  });
});
