/**
 * secret/config: the mount's defaults, Vault's shapes and rules, and bad input refused.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { CONFIG_CACHE_MS } from "../../../shared/engines/kv/mount-config.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

let kv: Deployment;

beforeEach(async () => {
  kv = await openDeployment();
});

describe("config", () => {
  it("reads Vault's defaults and changes only the fields given", async () => {
    expect((await kv.call("GET", "secret/config")).body.data).toEqual({
      cas_required: false,
      delete_version_after: "0s",
      max_versions: 0,
    });
    expect(
      (await kv.call("POST", "secret/config", { max_versions: 5, delete_version_after: "3h25m19s" })).status,
    ).toBe(204);
    await kv.call("POST", "secret/config", { cas_required: "true" });
    expect((await kv.call("GET", "secret/config")).body.data).toEqual({
      cas_required: true,
      delete_version_after: "3h25m19s",
      max_versions: 5,
    });
    // Zero clears delete_version_after.
    await kv.call("POST", "secret/config", { delete_version_after: 0 });
    expect((await kv.call("GET", "secret/config")).body.data.delete_version_after).toBe("0s");
  });

  it("applies in another process within the cache bound", async () => {
    const other = await kv.process();
    await put(other, "x", { a: 1 });
    await kv.call("POST", "secret/config", { cas_required: true });
    kv.clock.advance(CONFIG_CACHE_MS + 1);
    expect((await other.call("POST", "secret/data/x", { data: { a: 2 } })).status).toBe(400);
  });

  it("ignores fields it does not know, as Vault does, and refuses bad values with 400", async () => {
    // An answer without a body stays a 204, as Vault's: the warning goes with answers that have one.
    expect(await kv.call("POST", "secret/config", { versions: 3 })).toEqual({
      status: 204,
      body: undefined,
    });
    expect((await kv.call("GET", "secret/config?versions=3")).body.warnings).toEqual([
      "Endpoint ignored these unrecognized parameters: [versions]",
    ]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ max_versions: -2 }, /"max_versions": expected an integer >= 0/],
      [{ max_versions: 5000 }, /"max_versions": expected an integer <= 1000/],
      [{ cas_required: "maybe" }, /"cas_required": expected a boolean/],
      [{ delete_version_after: "later" }, /"delete_version_after"/],
      [{ delete_version_after: "-later" }, /"delete_version_after"/],
      [{ delete_version_after: [] }, /"delete_version_after"/],
    ];
    for (const [body, error] of cases) {
      const reply = await kv.call("POST", "secret/config", body);
      expect(reply.status).toBe(400);
      expect(reply.body.errors[0]).toMatch(error);
    }
    expect((await kv.call("GET", "secret/config")).body.data.max_versions).toBe(0);
  });

  it("has no PATCH or DELETE (405)", async () => {
    expect((await kv.call("DELETE", "secret/config")).status).toBe(405);
  });
});
