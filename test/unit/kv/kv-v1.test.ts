/**
 * KV version 1 mounts: enabled through sys/mounts, unversioned reads and writes of the
 * whole body, LIST, delete, the lease-duration hint, and bad input refused.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { KV_V1_DEFAULT_LEASE_SECONDS } from "../../../shared/engines/kv/kv-v1.ts";
import { MAX_SECRET_BYTES } from "../../../shared/engines/kv/limits.ts";
import { keysPk, secretPk } from "../../../shared/engines/kv/storage.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

let kv: Deployment;
let uuid: string;

beforeEach(async () => {
  kv = await openDeployment();
  expect((await kv.call("POST", "sys/mounts/kv1", { type: "kv", options: { version: "1" } })).status).toBe(
    204,
  );
  uuid = await kv.mountUuid("kv1/");
});

describe("mounting", () => {
  it("defaults a plain kv mount to version 1, as Vault does, and refuses other versions", async () => {
    await kv.call("POST", "sys/mounts/plain", { type: "kv" });
    expect((await kv.call("GET", "sys/mounts/plain")).body.data.options).toEqual({ version: "1" });
    const bad = await kv.call("POST", "sys/mounts/v3", { type: "kv", options: { version: "3" } });
    expect(bad).toEqual({
      status: 400,
      body: { errors: ['invalid KV version: options.version must be "1" or "2"'] },
    });
  });
});

describe("KV v1", () => {
  it("writes the body as the secret and reads it back in Vault's shape", async () => {
    expect((await kv.call("POST", "kv1/app/db", { user: "app", password: "pw" })).status).toBe(204);
    const read = await kv.call("GET", "kv1/app/db");
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      data: { user: "app", password: "pw" },
      lease_id: "",
      renewable: false,
      lease_duration: KV_V1_DEFAULT_LEASE_SECONDS,
      mount_type: "kv",
    });
    // A write replaces the whole secret: there are no versions.
    await kv.call("PUT", "kv1/app/db", { password: "new" });
    expect((await kv.call("GET", "kv1/app/db")).body.data).toEqual({ password: "new" });
  });

  it("takes the ttl field as the lease duration hint", async () => {
    await kv.call("POST", "kv1/hinted", { value: "v", ttl: "1h" });
    expect((await kv.call("GET", "kv1/hinted")).body.lease_duration).toBe(3600);
    await kv.call("POST", "kv1/hinted", { value: "v", ttl: "whenever" });
    expect((await kv.call("GET", "kv1/hinted")).body.lease_duration).toBe(KV_V1_DEFAULT_LEASE_SECONDS);
  });

  it("lists and deletes", async () => {
    for (const path of ["a", "a/b", "c/d"]) await kv.call("POST", `kv1/${path}`, { x: "1" });
    expect((await kv.call("LIST", "kv1/")).body.data.keys).toEqual(["a", "a/", "c/"]);
    expect((await kv.call("LIST", "kv1/c")).body.data.keys).toEqual(["d"]);
    expect((await kv.call("DELETE", "kv1/a")).status).toBe(204);
    expect(await kv.call("GET", "kv1/a")).toEqual({ status: 404, body: { errors: [] } });
    expect(await kv.items(secretPk(uuid, "a"))).toEqual([]);
    expect((await kv.call("LIST", "kv1/")).body.data.keys).toEqual(["a/", "c/"]);
    expect((await kv.call("DELETE", "kv1/never")).status).toBe(204);
  });

  it("has no KV v2 paths: data/ is just a secret path", async () => {
    await kv.call("POST", "kv1/data/x", { literal: "yes" });
    expect((await kv.call("GET", "kv1/data/x")).body.data).toEqual({ literal: "yes" });
  });

  it("refuses bad input and writes nothing", async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ["an empty body", "kv1/e", {}, 400, /missing data fields/],
      ["a folder path", "kv1/folder/", { a: 1 }, 400, /must name a secret/],
      ["an oversized secret", "kv1/big", { blob: "x".repeat(MAX_SECRET_BYTES) }, 413, /exceeds the limit/],
    ];
    for (const [, path, body, status, error] of cases) {
      const reply = await kv.call("POST", path, body);
      expect(reply.status).toBe(status);
      expect(reply.body.errors[0]).toMatch(error);
    }
    expect(await kv.items(keysPk(uuid))).toEqual([]);
  });

  it("purges its data when the mount is disabled", async () => {
    await kv.call("POST", "kv1/p", { a: "1" });
    expect((await kv.call("DELETE", "sys/mounts/kv1")).status).toBe(204);
    expect(await kv.items(secretPk(uuid, "p"))).toEqual([]);
    expect(await kv.items(keysPk(uuid))).toEqual([]);
  });
});
