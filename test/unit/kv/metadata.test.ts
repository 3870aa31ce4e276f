/**
 * secret/metadata/<path>: read, create/replace settings, merge-patch them, delete the
 * secret with all its versions, and LIST in Vault's keys shape.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  MAX_CUSTOM_METADATA_KEY_BYTES,
  MAX_CUSTOM_METADATA_KEYS,
  MAX_CUSTOM_METADATA_VALUE_BYTES,
} from "../../../shared/engines/kv/limits.ts";
import { cleanupPk, keysPk, secretPk } from "../../../shared/engines/kv/storage.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

let kv: Deployment;
let uuid: string;

beforeEach(async () => {
  kv = await openDeployment();
  uuid = await kv.mountUuid();
});

const metadataOf = async (path: string) => (await kv.call("GET", `secret/metadata/${path}`)).body.data;

describe("read", () => {
  it("answers in Vault's shape", async () => {
    await put(kv, "app", { a: 1 });
    await put(kv, "app", { a: 2 });
    expect(await metadataOf("app")).toEqual({
      cas_required: false,
      created_time: expect.any(String),
      current_version: 2,
      custom_metadata: null,
      delete_version_after: "0s",
      max_versions: 0,
      oldest_version: 0,
      updated_time: expect.any(String),
      versions: {
        "1": { created_time: expect.any(String), deletion_time: "", destroyed: false },
        "2": { created_time: expect.any(String), deletion_time: "", destroyed: false },
      },
    });
    expect(await kv.call("GET", "secret/metadata/none")).toEqual({ status: 404, body: { errors: [] } });
  });
});

describe("write", () => {
  it("creates a secret with no version yet, listed and readable as metadata only", async () => {
    const reply = await kv.call("POST", "secret/metadata/fresh", {
      max_versions: 5,
      cas_required: true,
      delete_version_after: "3h25m19s",
      custom_metadata: { owner: "jdoe", n: 7 },
    });
    expect(reply.status).toBe(204);
    expect(await metadataOf("fresh")).toMatchObject({
      current_version: 0,
      max_versions: 5,
      cas_required: true,
      delete_version_after: "3h25m19s",
      custom_metadata: { owner: "jdoe", n: "7" },
      versions: {},
    });
    expect((await kv.call("LIST", "secret/metadata/")).body.data.keys).toEqual(["fresh"]);
    expect((await kv.call("GET", "secret/data/fresh")).status).toBe(404);
    // The custom metadata shows with every version.
    const written = await kv.call("POST", "secret/data/fresh", { data: { a: 1 }, options: { cas: 0 } });
    expect(written.body.data.custom_metadata).toEqual({ owner: "jdoe", n: "7" });
  });

  it("replaces only the fields given, and custom_metadata as a whole", async () => {
    await kv.call("POST", "secret/metadata/m", { max_versions: 4, custom_metadata: { a: "1", b: "2" } });
    await kv.call("POST", "secret/metadata/m", { custom_metadata: { c: "3" } });
    expect(await metadataOf("m")).toMatchObject({ max_versions: 4, custom_metadata: { c: "3" } });
  });

  it("does nothing for an empty body, and ignores fields it does not know, as Vault does", async () => {
    expect((await kv.call("POST", "secret/metadata/empty", {})).status).toBe(204);
    expect((await kv.call("GET", "secret/metadata/empty")).status).toBe(404);
    // Vault names ignored fields in a warning, but an answer without a body stays a 204.
    const reply = await kv.call("POST", "secret/metadata/empty", { max_version: 3 });
    expect(reply).toEqual({ status: 204, body: undefined });
    expect((await kv.call("GET", "secret/metadata/empty")).status).toBe(404);
    // An answer with a body carries the warning.
    await kv.call("POST", "secret/metadata/empty", { max_versions: 3 });
    const read = await kv.call("GET", "secret/metadata/empty?colour=blue");
    expect(read.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [colour]"]);
  });

  it("warns when cas_required false is overruled by the mount", async () => {
    await kv.call("POST", "secret/config", { cas_required: true });
    const reply = await kv.call("POST", "secret/metadata/c", { cas_required: false });
    expect(reply.body.warnings).toEqual([
      '"cas_required" set to false, but is mandated by backend config. This value will be ignored.',
    ]);
  });
});

describe("custom_metadata limits", () => {
  const entries = (count: number) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, "v"]));
  const cases: [string, unknown, number, RegExp][] = [
    ["too many keys", entries(MAX_CUSTOM_METADATA_KEYS + 1), 413, /at most 64 keys, provided 65/],
    ["a long key", { ["k".repeat(MAX_CUSTOM_METADATA_KEY_BYTES + 1)]: "v" }, 413, /longer than 128 bytes/],
    ["a long value", { k: "v".repeat(MAX_CUSTOM_METADATA_VALUE_BYTES + 1) }, 413, /longer than 512 bytes/],
    ["an empty value", { k: "" }, 400, /must not be empty/],
    ["an unprintable value", { k: "a\u0007b" }, 400, /unprintable characters/],
    ["a non-string value", { k: { nested: true } }, 400, /must be a string/],
    ["a list", ["a"], 400, /invalid value for "custom_metadata": expected an object/],
  ];
  for (const [name, custom, status, error] of cases) {
    it(`refuses ${name} (${status}) and writes nothing`, async () => {
      const reply = await kv.call("POST", "secret/metadata/cm", { custom_metadata: custom });
      expect(reply.status).toBe(status);
      expect(reply.body.errors[0]).toMatch(error);
      expect(await kv.items(secretPk(uuid, "cm"))).toEqual([]);
    });
  }

  it("accepts exactly the limits", async () => {
    const full = entries(MAX_CUSTOM_METADATA_KEYS);
    full.k0 = "v".repeat(MAX_CUSTOM_METADATA_VALUE_BYTES);
    full["k".repeat(MAX_CUSTOM_METADATA_KEY_BYTES)] = "v";
    delete full.k1;
    expect((await kv.call("POST", "secret/metadata/cm", { custom_metadata: full })).status).toBe(204);
  });
});

describe("bad input", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["a negative max_versions", { max_versions: -1 }, /"max_versions": expected an integer >= 0/],
    ["a huge max_versions", { max_versions: 1001 }, /"max_versions": expected an integer <= 1000/],
    ["a string max_versions", { max_versions: "many" }, /"max_versions": expected an integer/],
    ["a non-boolean cas_required", { cas_required: "yes" }, /"cas_required": expected a boolean/],
    ["a bad duration", { delete_version_after: "soon" }, /"delete_version_after"/],
    ["a negative duration", { delete_version_after: -5 }, /"delete_version_after"/],
  ];
  for (const [name, body, error] of cases) {
    it(`refuses ${name} with 400`, async () => {
      await put(kv, "b", { a: 1 });
      const before = await metadataOf("b");
      const reply = await kv.call("POST", "secret/metadata/b", body);
      expect(reply.status).toBe(400);
      expect(reply.body.errors[0]).toMatch(error);
      expect(await metadataOf("b")).toEqual(before);
    });
  }
});

describe("patch", () => {
  it("merges: given fields change, null custom keys go, the rest stays", async () => {
    await kv.call("POST", "secret/metadata/p", {
      max_versions: 4,
      cas_required: true,
      custom_metadata: { a: "1", b: "2" },
    });
    const reply = await kv.call("PATCH", "secret/metadata/p", {
      max_versions: 6,
      custom_metadata: { a: null, c: "3" },
    });
    expect(reply.status).toBe(204);
    expect(await metadataOf("p")).toMatchObject({
      max_versions: 6,
      cas_required: true,
      custom_metadata: { b: "2", c: "3" },
    });

    await kv.call("PATCH", "secret/metadata/p", { custom_metadata: null });
    expect((await metadataOf("p")).custom_metadata).toBeNull();
  });

  it("refuses a merge that grows past the custom_metadata limits", async () => {
    const half = (offset: number) =>
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i + offset}`, "v"]));
    await kv.call("POST", "secret/metadata/p", { custom_metadata: half(0) });
    const reply = await kv.call("PATCH", "secret/metadata/p", { custom_metadata: half(40) });
    expect(reply.status).toBe(413);
    expect(Object.keys((await metadataOf("p")).custom_metadata)).toHaveLength(40);
  });

  it("needs an existing secret (404) and the merge-patch content type (415)", async () => {
    expect(await kv.call("PATCH", "secret/metadata/none", { max_versions: 1 })).toEqual({
      status: 404,
      body: { errors: [] },
    });
    expect((await kv.call("GET", "secret/metadata/none")).status).toBe(404);
    await put(kv, "p", { a: 1 });
    const asJson = await kv.app.request("/v1/secret/metadata/p", {
      method: "PATCH",
      headers: { "X-Vault-Token": kv.rootToken, "Content-Type": "application/json" },
      body: JSON.stringify({ max_versions: 1 }),
    });
    expect(asJson.status).toBe(415);
    expect((await metadataOf("p")).max_versions).toBe(0);
  });
});

describe("delete", () => {
  it("removes every version, the metadata and the listing entry", async () => {
    for (let i = 0; i < 3; i++) await put(kv, "gone", { i });
    expect((await kv.call("DELETE", "secret/metadata/gone")).status).toBe(204);
    expect(await kv.items(secretPk(uuid, "gone"))).toEqual([]);
    expect(await kv.items(keysPk(uuid))).toEqual([]);
    expect((await kv.call("GET", "secret/data/gone")).status).toBe(404);
    expect((await kv.call("DELETE", "secret/metadata/gone")).status).toBe(204);
    // Created again, it starts over at version 1.
    expect(await put(kv, "gone", { again: true })).toBe(1);
    expect((await kv.call("GET", "secret/data/gone")).body.data.data).toEqual({ again: true });
  });

  it("removes a secret with more versions than one atomic write holds", async () => {
    await kv.call("POST", "secret/metadata/big", { max_versions: 200 });
    for (let i = 1; i <= 130; i++) await put(kv, "big", { i });
    expect(await kv.items(secretPk(uuid, "big"))).toHaveLength(131);
    expect((await kv.call("DELETE", "secret/metadata/big")).status).toBe(204);
    expect(await kv.items(secretPk(uuid, "big"))).toEqual([]);
    expect(await kv.items(keysPk(uuid))).toEqual([]);
    expect(await kv.items(cleanupPk(uuid))).toEqual([]);
    expect(await put(kv, "big", { fresh: 1 })).toBe(1);
  });
});

describe("list", () => {
  it("lists names and folders (with a trailing slash) directly inside a folder", async () => {
    for (const path of ["foo", "foo/bar", "foo/baz/qux", "other"]) await put(kv, path, { a: 1 });
    expect((await kv.call("LIST", "secret/metadata/")).body.data.keys).toEqual(["foo", "foo/", "other"]);
    expect((await kv.call("LIST", "secret/metadata/foo")).body.data.keys).toEqual(["bar", "baz/"]);
    expect((await kv.call("GET", "secret/metadata/foo/?list=true")).body.data.keys).toEqual(["bar", "baz/"]);
    expect(await kv.call("LIST", "secret/metadata/nothing/")).toEqual({ status: 404, body: { errors: [] } });
  });
});
