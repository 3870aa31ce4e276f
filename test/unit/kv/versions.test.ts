/**
 * secret/delete, undelete and destroy with {versions}: deleted versions read as Vault
 * reports them, undelete restores them, destroyed ones never come back and their
 * ciphertext is gone from the store.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { secretPk, versionSk } from "../../../shared/engines/kv/storage.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

let kv: Deployment;
let uuid: string;

beforeEach(async () => {
  kv = await openDeployment();
  uuid = await kv.mountUuid();
  for (let i = 1; i <= 3; i++) await put(kv, "app", { i });
});

const versionItem = (version: number) =>
  kv.broker.store.get({ pk: secretPk(uuid, "app"), sk: versionSk(version) });
const read = (version: number) => kv.call("GET", `secret/data/app?version=${version}`);

describe("delete and undelete", () => {
  it("hides the versions (404 with their metadata) and undelete restores them", async () => {
    expect((await kv.call("POST", "secret/delete/app", { versions: [1, 2] })).status).toBe(204);
    for (const version of [1, 2]) {
      const reply = await read(version);
      expect(reply.status).toBe(404);
      expect(reply.body.data.data).toBeNull();
      expect(reply.body.data.metadata).toMatchObject({
        version,
        destroyed: false,
        deletion_time: expect.any(String),
      });
    }
    expect((await read(3)).status).toBe(200);
    const metadata = (await kv.call("GET", "secret/metadata/app")).body.data;
    expect(metadata.versions["1"].deletion_time).not.toBe("");

    expect((await kv.call("POST", "secret/undelete/app", { versions: [1, 2] })).status).toBe(204);
    expect((await read(1)).body.data).toMatchObject({ data: { i: 1 }, metadata: { deletion_time: "" } });
    expect((await read(2)).body.data.data).toEqual({ i: 2 });
  });

  it("takes versions as the vault CLI sends them: strings, alone or comma-separated", async () => {
    expect((await kv.call("POST", "secret/delete/app", { versions: "1,3" })).status).toBe(204);
    expect((await read(1)).status).toBe(404);
    expect((await read(3)).status).toBe(404);
    expect((await read(2)).status).toBe(200);
    expect((await kv.call("POST", "secret/undelete/app", { versions: ["1", "3"] })).status).toBe(204);
    expect((await read(1)).status).toBe(200);
    expect((await read(3)).status).toBe(200);
  });
});

describe("destroy", () => {
  it("removes the ciphertext with the flag, and cannot be undone", async () => {
    expect(await versionItem(2)).toBeDefined();
    expect((await kv.call("POST", "secret/destroy/app", { versions: [2] })).status).toBe(204);
    expect(await versionItem(2)).toBeUndefined();
    const reply = await read(2);
    expect(reply.status).toBe(404);
    expect(reply.body.data).toMatchObject({ data: null, metadata: { version: 2, destroyed: true } });

    expect((await kv.call("POST", "secret/undelete/app", { versions: [2] })).status).toBe(204);
    expect((await read(2)).status).toBe(404);
    expect((await kv.call("GET", "secret/metadata/app")).body.data.versions["2"].destroyed).toBe(true);
    // The others are untouched.
    expect((await read(1)).body.data.data).toEqual({ i: 1 });
    expect((await read(3)).body.data.data).toEqual({ i: 3 });
  });

  it("destroys a deleted version too, and the latest", async () => {
    await kv.call("POST", "secret/delete/app", { versions: [1] });
    await kv.call("POST", "secret/destroy/app", { versions: [1, 3] });
    expect(await versionItem(1)).toBeUndefined();
    expect(await versionItem(3)).toBeUndefined();
    const latest = await kv.call("GET", "secret/data/app");
    expect(latest.status).toBe(404);
    expect(latest.body.data.metadata).toMatchObject({ version: 3, destroyed: true });
    // A new version follows the destroyed one.
    expect(await put(kv, "app", { i: 4 })).toBe(4);
  });

  it("destroys more versions than one atomic write holds", async () => {
    await kv.call("POST", "secret/metadata/many", { max_versions: 300 });
    for (let i = 1; i <= 150; i++) await put(kv, "many", { i });
    const all = Array.from({ length: 150 }, (_, i) => i + 1);
    expect((await kv.call("POST", "secret/destroy/many", { versions: all })).status).toBe(204);
    const remaining = (await kv.items(secretPk(uuid, "many"))).map((item) => item.sk);
    expect(remaining).toEqual(["~meta"]);
    const versions = (await kv.call("GET", "secret/metadata/many")).body.data.versions;
    expect(Object.values(versions).every((state) => (state as { destroyed: boolean }).destroyed)).toBe(true);
  });
});

describe("versions that do not exist", () => {
  for (const action of ["delete", "undelete", "destroy"]) {
    it(`${action}: passes over them as Vault does, and says so`, async () => {
      const reply = await kv.call("POST", `secret/${action}/app`, { versions: [2, 9, 12] });
      expect(reply.status).toBe(200);
      expect(reply.body.warnings).toEqual(['versions 9, 12 of secret "app" do not exist: ignored']);
      const missing = await kv.call("POST", `secret/${action}/nothing`, { versions: [1] });
      expect(missing.status).toBe(200);
      expect(missing.body.warnings).toEqual(['no secret at "nothing": nothing changed']);
    });
  }
});

describe("bad input", () => {
  const cases: [string, unknown, RegExp][] = [
    ["no versions", {}, /no version number provided/],
    ["an empty list", { versions: [] }, /no version number provided/],
    [
      "a non-integer",
      { versions: ["one"] },
      /invalid value for "versions": expected a list of integers >= 1/,
    ],
    ["a float", { versions: [1.5] }, /invalid value for "versions"/],
    ["zero", { versions: [0] }, /invalid value for "versions"/],
    ["a negative", { versions: "-1" }, /invalid value for "versions"/],
    ["an object", { versions: { 1: true } }, /invalid value for "versions"/],
  ];
  for (const action of ["delete", "undelete", "destroy"]) {
    for (const [name, body, error] of cases) {
      it(`${action}: refuses ${name} with 400 and changes nothing`, async () => {
        const before = (await kv.call("GET", "secret/metadata/app")).body.data;
        const reply = await kv.call("POST", `secret/${action}/app`, body);
        expect(reply.status).toBe(400);
        expect(reply.body.errors[0]).toMatch(error);
        expect((await kv.call("GET", "secret/metadata/app")).body.data).toEqual(before);
        expect(await versionItem(1)).toBeDefined();
      });
    }
  }
});
