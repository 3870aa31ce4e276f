/**
 * secret/data/<path>: reads, writes with check-and-set, merge patches, soft deletion of
 * the latest version, pruning beyond max_versions, delete_version_after, and every bad
 * input refused with Vault's status and nothing written.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  MAX_SECRET_BYTES,
  MAX_SECRET_DEPTH,
  MAX_SECRET_KEYS,
  MAX_SECRET_PATH_BYTES,
} from "../../../shared/engines/kv/limits.ts";
import { keysPk, secretPk } from "../../../shared/engines/kv/storage.ts";
import { countingKeyProvider, countingStore, newCounters } from "../../support/cost-counters.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

let kv: Deployment;
let uuid: string;

beforeEach(async () => {
  kv = await openDeployment();
  uuid = await kv.mountUuid();
});

const versionItems = async (path: string) =>
  (await kv.items(secretPk(uuid, path))).filter((item) => item.sk.startsWith("v/")).map((item) => item.sk);

describe("read and write", () => {
  it("writes versions and reads the latest or any one, in Vault's shapes", async () => {
    const write = await kv.call("POST", "secret/data/app/db", { data: { password: "one" } });
    expect(write.status).toBe(200);
    expect(write.body.data).toEqual({
      created_time: expect.any(String),
      custom_metadata: null,
      deletion_time: "",
      destroyed: false,
      version: 1,
    });
    await put(kv, "app/db", { password: "two", nested: { a: [1, 2] } });

    const latest = await kv.call("GET", "secret/data/app/db");
    expect(latest.status).toBe(200);
    expect(latest.body.data).toEqual({
      data: { password: "two", nested: { a: [1, 2] } },
      metadata: {
        created_time: expect.any(String),
        custom_metadata: null,
        deletion_time: "",
        destroyed: false,
        version: 2,
      },
    });
    expect((await kv.call("GET", "secret/data/app/db?version=1")).body.data.data).toEqual({
      password: "one",
    });
    expect((await kv.call("GET", "secret/data/app/db?version=0")).body.data.metadata.version).toBe(2);
  });

  it("serves a warm read of the latest version with one store round trip", async () => {
    const counters = newCounters();
    const counted = await kv.process({ store: countingStore(kv.store, counters) });
    await put(counted, "hot", { value: "x" });
    await counted.call("GET", "secret/data/hot");
    counters.calls.length = 0;
    const read = await counted.call("GET", "secret/data/hot");
    expect(read.status).toBe(200);
    expect(counters.calls).toEqual(["query"]);
  });

  it("costs a cold process one unwrap per keyring version it reads, item MACs included", async () => {
    await put(kv, "cold", { value: "one" });
    await kv.broker.keyring.rotate();
    await put(kv, "cold", { value: "two" });
    const counters = newCounters();
    const cold = await kv.process({ keyProvider: countingKeyProvider(kv.keyProvider, counters) });
    for (let i = 0; i < 20; i++) {
      expect((await cold.call("GET", "secret/data/cold")).body.data.data).toEqual({ value: "two" });
    }
    // Version 1 for the token HMAC and the item MAC key, version 2 for the secret.
    expect(counters.unwrap).toBe(2);
  });

  it("answers 404 for a missing secret and names a missing version", async () => {
    expect(await kv.call("GET", "secret/data/nothing")).toEqual({ status: 404, body: { errors: [] } });
    await put(kv, "one", { a: "b" });
    expect(await kv.call("GET", "secret/data/one?version=7")).toEqual({
      status: 404,
      body: { errors: ['version 7 of secret "one" does not exist'] },
    });
  });

  it("warns about fields it ignores, as Vault does, and still writes", async () => {
    const write = await kv.call("POST", "secret/data/warned", { data: { a: "1" }, cas: 0, extra: true });
    expect(write.status).toBe(200);
    expect(write.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [cas extra]"]);
  });
});

describe("check-and-set", () => {
  it("with cas 0 creates only, and otherwise must name the current version", async () => {
    expect(await put(kv, "cas", { v: 1 }, 0)).toBe(1);
    const again = await kv.call("POST", "secret/data/cas", { data: { v: 2 }, options: { cas: 0 } });
    expect(again).toEqual({
      status: 400,
      body: { errors: ["check-and-set parameter did not match the current version"] },
    });
    const stale = await kv.call("POST", "secret/data/cas", { data: { v: 2 }, options: { cas: 5 } });
    expect(stale.status).toBe(400);
    expect(await put(kv, "cas", { v: 2 }, 1)).toBe(2);
    expect(await versionItems("cas")).toHaveLength(2);
  });

  it("is required when the mount's config or the secret's metadata says so", async () => {
    await kv.call("POST", "secret/config", { cas_required: true });
    const required = { status: 400, body: { errors: ["check-and-set parameter required for this call"] } };
    expect(await kv.call("POST", "secret/data/strict", { data: { a: 1 } })).toEqual(required);
    expect(await put(kv, "strict", { a: 1 }, 0)).toBe(1);

    await kv.call("POST", "secret/config", { cas_required: false });
    await kv.call("POST", "secret/metadata/strict2", { cas_required: true });
    expect(await kv.call("POST", "secret/data/strict2", { data: { a: 1 } })).toEqual(required);
    expect(await put(kv, "strict2", { a: 1 }, 0)).toBe(1);
  });

  it("refuses a cas that is not a non-negative integer", async () => {
    for (const cas of ["x", -1, 1.5, true, {}]) {
      const reply = await kv.call("POST", "secret/data/badcas", { data: { a: 1 }, options: { cas } });
      expect(reply).toEqual({
        status: 400,
        body: { errors: ['invalid value for "options.cas": expected an integer >= 0'] },
      });
    }
    expect(await kv.call("POST", "secret/data/badcas", { data: { a: 1 }, options: "cas=1" })).toMatchObject({
      status: 400,
      body: { errors: [expect.stringContaining('"options"')] },
    });
    expect(await kv.items(secretPk(uuid, "badcas"))).toEqual([]);
  });
});

describe("patch", () => {
  it("applies a JSON merge patch to the current version as a new version", async () => {
    await put(kv, "p", { keep: "k", drop: "d", nested: { a: 1, b: 2 } });
    const patch = await kv.call("PATCH", "secret/data/p", {
      data: { drop: null, nested: { b: null, c: 3 }, added: ["x"] },
    });
    expect(patch.status).toBe(200);
    expect(patch.body.data.version).toBe(2);
    expect((await kv.call("GET", "secret/data/p")).body.data.data).toEqual({
      keep: "k",
      nested: { a: 1, c: 3 },
      added: ["x"],
    });
  });

  it("needs the merge-patch content type (415 otherwise)", async () => {
    await put(kv, "p", { a: 1 });
    const patch = (headers: Record<string, string>) =>
      kv.app.request("/v1/secret/data/p", {
        method: "PATCH",
        headers: { "X-Vault-Token": kv.rootToken, ...headers },
        body: JSON.stringify({ data: { a: 2 } }),
      });
    for (const headers of [{}, { "Content-Type": "application/json" }] as Record<string, string>[]) {
      const reply = await patch(headers);
      expect(reply.status).toBe(415);
      expect((await reply.json()).errors[0]).toMatch(
        /^PATCH requires Content-Type of application\/merge-patch\+json/,
      );
    }
    const withCharset = { "Content-Type": "application/merge-patch+json; charset=utf-8" };
    expect((await patch(withCharset)).status).toBe(200);
  });

  it("answers 404 for a missing secret and for a deleted current version (with its metadata)", async () => {
    expect(await kv.call("PATCH", "secret/data/none", { data: { a: 1 } })).toEqual({
      status: 404,
      body: { errors: [] },
    });
    await put(kv, "gone", { a: 1 });
    await kv.call("DELETE", "secret/data/gone");
    const reply = await kv.call("PATCH", "secret/data/gone", { data: { a: 2 } });
    expect(reply.status).toBe(404);
    expect(reply.body.data).toMatchObject({
      version: 1,
      destroyed: false,
      deletion_time: expect.any(String),
    });
    expect(await versionItems("gone")).toHaveLength(1);
  });

  it("checks cas, needs data, and refuses a result over the limits", async () => {
    await put(kv, "p", { a: 1 });
    const mismatch = await kv.call("PATCH", "secret/data/p", { data: { a: 2 }, options: { cas: 0 } });
    expect(mismatch.status).toBe(400);
    expect((await kv.call("PATCH", "secret/data/p", { data: { a: 2 }, options: { cas: 1 } })).status).toBe(
      200,
    );
    expect((await kv.call("PATCH", "secret/data/p", {})).body.errors[0]).toMatch(/no data provided/);
    const huge = await kv.call("PATCH", "secret/data/p", { data: { blob: "x".repeat(MAX_SECRET_BYTES) } });
    expect(huge.status).toBe(413);
    expect(await versionItems("p")).toHaveLength(2);
  });
});

describe("soft deletion of the latest version", () => {
  it("hides it with a 404 that carries its metadata, as Vault reports it", async () => {
    await put(kv, "d", { a: 1 });
    expect((await kv.call("DELETE", "secret/data/d")).status).toBe(204);
    const read = await kv.call("GET", "secret/data/d");
    expect(read.status).toBe(404);
    expect(read.body.data).toEqual({
      data: null,
      metadata: {
        created_time: expect.any(String),
        custom_metadata: null,
        deletion_time: expect.any(String),
        destroyed: false,
        version: 1,
      },
    });
    // The data is still there for undelete.
    expect(await versionItems("d")).toHaveLength(1);
    expect((await kv.call("DELETE", "secret/data/d")).status).toBe(204);
    expect((await kv.call("DELETE", "secret/data/never")).status).toBe(204);
  });
});

describe("bad input", () => {
  const cases: [string, unknown, RegExp][] = [
    ["no data", {}, /no data provided/],
    ["null data", { data: null }, /no data provided/],
    ["data a string", { data: "secret" }, /invalid value for "data": expected an object/],
    ["data an array", { data: [1] }, /invalid value for "data": expected an object/],
  ];
  for (const [name, body, error] of cases) {
    it(`refuses ${name} with 400 and writes nothing`, async () => {
      const reply = await kv.call("POST", "secret/data/bad", body);
      expect(reply.status).toBe(400);
      expect(reply.body.errors[0]).toMatch(error);
      expect(await kv.items(secretPk(uuid, "bad"))).toEqual([]);
      expect(await kv.items(keysPk(uuid))).toEqual([]);
    });
  }

  it("refuses a version that is not a non-negative integer", async () => {
    await put(kv, "v", { a: 1 });
    for (const version of ["abc", "-1", "1.5"]) {
      const reply = await kv.call("GET", `secret/data/v?version=${version}`);
      expect(reply.status).toBe(400);
      expect(reply.body.errors[0]).toMatch(/invalid value for "version"/);
    }
  });

  it("refuses a folder as a secret path", async () => {
    const reply = await kv.call("POST", "secret/data/folder/", { data: { a: 1 } });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatch(/must name a secret, not a folder/);
  });
});

describe("limits (413, nothing written)", () => {
  const over: [string, string, () => Record<string, unknown>, RegExp][] = [
    ["size", "big", () => ({ blob: "x".repeat(MAX_SECRET_BYTES) }), /exceeds the limit of 393216 bytes/],
    [
      "keys",
      "wide",
      () => Object.fromEntries(Array.from({ length: MAX_SECRET_KEYS + 1 }, (_, i) => [`k${i}`, i])),
      /more than the limit of 1024 keys/,
    ],
    [
      "depth",
      "deep",
      () => {
        let value: Record<string, unknown> = { leaf: 1 };
        for (let i = 0; i < MAX_SECRET_DEPTH; i++) value = { level: value };
        return value;
      },
      /deeper than the limit of 32 levels/,
    ],
  ];
  for (const [what, path, data, error] of over) {
    it(`refuses a secret over the ${what} limit`, async () => {
      const reply = await kv.call("POST", `secret/data/${path}`, { data: data() });
      expect(reply.status).toBe(413);
      expect(reply.body.errors[0]).toMatch(error);
      expect(await kv.items(secretPk(uuid, path))).toEqual([]);
      expect(await kv.items(keysPk(uuid))).toEqual([]);
    });
  }

  it("accepts a secret right at the size limit", async () => {
    const overhead = JSON.stringify({ blob: "" }).length;
    const reply = await kv.call("POST", "secret/data/edge", {
      data: { blob: "x".repeat(MAX_SECRET_BYTES - overhead) },
    });
    expect(reply.status).toBe(200);
    expect((await kv.call("GET", "secret/data/edge")).body.data.data.blob).toHaveLength(
      MAX_SECRET_BYTES - overhead,
    );
  });

  it("refuses a path over the limit", async () => {
    const path = "p".repeat(MAX_SECRET_PATH_BYTES + 1);
    const reply = await kv.call("POST", `secret/data/${path}`, { data: { a: 1 } });
    expect(reply.status).toBe(413);
    expect(reply.body.errors[0]).toMatch(/secret path exceeds the limit of 512 bytes/);
    expect(await kv.items(keysPk(uuid))).toEqual([]);
  });
});

describe("max_versions", () => {
  it("prunes the oldest versions, data included, past the effective limit", async () => {
    await kv.call("POST", "secret/config", { max_versions: 3 });
    for (let i = 1; i <= 5; i++) await put(kv, "pruned", { i });
    const metadata = (await kv.call("GET", "secret/metadata/pruned")).body.data;
    expect(Object.keys(metadata.versions)).toEqual(["3", "4", "5"]);
    expect(metadata.oldest_version).toBe(3);
    expect(await versionItems("pruned")).toEqual(["v/0000000003", "v/0000000004", "v/0000000005"]);
    expect((await kv.call("GET", "secret/data/pruned?version=1")).status).toBe(404);

    // The secret's own setting wins over the mount's.
    await kv.call("POST", "secret/metadata/pruned", { max_versions: 1 });
    await put(kv, "pruned", { i: 6 });
    expect(await versionItems("pruned")).toEqual(["v/0000000006"]);
  });

  it("keeps 10 versions when nothing says otherwise", async () => {
    for (let i = 1; i <= 12; i++) await put(kv, "ten", { i });
    expect(await versionItems("ten")).toHaveLength(10);
    expect((await kv.call("GET", "secret/metadata/ten")).body.data.oldest_version).toBe(3);
  });
});

describe("delete_version_after", () => {
  it("sets the deletion time at write, from the shorter of the secret's and the mount's", async () => {
    await kv.call("POST", "secret/config", { delete_version_after: "1h" });
    await kv.call("POST", "secret/metadata/ttl", { delete_version_after: "60s" });
    const written = (await kv.call("POST", "secret/data/ttl", { data: { a: 1 } })).body.data;
    expect(Date.parse(written.deletion_time) - Date.parse(written.created_time)).toBe(60_000);
    expect((await kv.call("GET", "secret/data/ttl")).status).toBe(200);

    kv.clock.advance(61_000);
    const expired = await kv.call("GET", "secret/data/ttl");
    expect(expired.status).toBe(404);
    expect(expired.body.data.metadata.deletion_time).toBe(written.deletion_time);

    // Undelete re-arms it from now.
    await kv.call("POST", "secret/undelete/ttl", { versions: [1] });
    expect((await kv.call("GET", "secret/data/ttl")).status).toBe(200);
    kv.clock.advance(61_000);
    expect((await kv.call("GET", "secret/data/ttl")).status).toBe(404);
  });

  it("is off for every secret when the mount sets it negative", async () => {
    await kv.call("POST", "secret/config", { delete_version_after: -1 });
    expect((await kv.call("GET", "secret/config")).body.data.delete_version_after).toBe("-1s");
    await kv.call("POST", "secret/metadata/keep", { delete_version_after: "1s" });
    const written = (await kv.call("POST", "secret/data/keep", { data: { a: 1 } })).body.data;
    expect(written.deletion_time).toBe("");
  });
});
