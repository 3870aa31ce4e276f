/**
 * secret/subkeys/<path>: a version's structure with every value replaced by null.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { subkeysOf } from "../../../shared/engines/kv/path-subkeys.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

const SAMPLE = { foo: "abc", bar: { baz: "def", deep: { x: 1 } }, quux: {}, list: [1, { a: 2 }] };

describe("subkeysOf", () => {
  it("keeps the structure and drops every value (Vault's sample)", () => {
    expect(subkeysOf(SAMPLE, 0)).toEqual({
      foo: null,
      bar: { baz: null, deep: { x: null } },
      quux: null,
      list: null,
    });
  });

  it("treats keys at `depth` as leaves", () => {
    expect(subkeysOf(SAMPLE, 1)).toEqual({ foo: null, bar: null, quux: null, list: null });
    expect(subkeysOf(SAMPLE, 2)).toEqual({
      foo: null,
      bar: { baz: null, deep: null },
      quux: null,
      list: null,
    });
  });
});

describe("secret/subkeys", () => {
  let kv: Deployment;
  beforeEach(async () => {
    kv = await openDeployment();
    await put(kv, "s", SAMPLE);
    await put(kv, "s", { only: "one" });
  });

  it("answers with subkeys and the version's metadata, for any version and depth", async () => {
    const latest = await kv.call("GET", "secret/subkeys/s");
    expect(latest.body.data).toEqual({
      subkeys: { only: null },
      metadata: {
        created_time: expect.any(String),
        custom_metadata: null,
        deletion_time: "",
        destroyed: false,
        version: 2,
      },
    });
    const first = await kv.call("GET", "secret/subkeys/s?version=1&depth=1");
    expect(first.body.data.subkeys).toEqual({ foo: null, bar: null, quux: null, list: null });
    // The answer never carries a value: only the data is checked, since a random request id may hold "abc".
    expect(JSON.stringify(first.body.data)).not.toContain("abc");
  });

  it("answers 404 as reads do", async () => {
    expect(await kv.call("GET", "secret/subkeys/none")).toEqual({ status: 404, body: { errors: [] } });
    await kv.call("POST", "secret/destroy/s", { versions: [2] });
    const destroyed = await kv.call("GET", "secret/subkeys/s");
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data).toMatchObject({ subkeys: null, metadata: { version: 2, destroyed: true } });
  });

  it("refuses a bad depth or version with 400", async () => {
    for (const query of ["depth=-1", "depth=deep", "version=x"]) {
      const reply = await kv.call("GET", `secret/subkeys/s?${query}`);
      expect(reply.status).toBe(400);
    }
  });
});
