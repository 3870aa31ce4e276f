/**
 * Tuning mounts (sys/mounts/<path>/tune, sys/auth/<path>/tune) with Vault's fields and
 * rules: a field given replaces the setting, one not given keeps it, "system" resets a
 * TTL, options merge, a KV mount's version never goes down, and a refused change changes
 * nothing. The engine serving the mount sees the new settings at once.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import type { ApiCall } from "../../support/http.ts";

let deployment: Deployment;
let call: ApiCall;

beforeEach(async () => {
  deployment = await openDeployment();
  call = deployment.call;
  expect((await call("POST", "sys/mounts/kv1", { type: "kv" })).status).toBe(204);
  expect((await call("POST", "sys/auth/kubernetes", { type: "kubernetes" })).status).toBe(204);
});

describe("sys/mounts/:path/tune", () => {
  it("changes what is given, keeps the rest, and shows it in the tune read and sys/mounts", async () => {
    const tuned = await call("POST", "sys/mounts/kv1/tune", {
      default_lease_ttl: "1h",
      max_lease_ttl: 7200,
      description: "team secrets",
      listing_visibility: "unauth",
      audit_non_hmac_request_keys: "user,role",
    });
    expect(tuned.status).toBe(204);
    expect((await call("GET", "sys/mounts/kv1/tune")).body.data).toEqual({
      description: "team secrets",
      default_lease_ttl: 3600,
      max_lease_ttl: 7200,
      force_no_cache: false,
      listing_visibility: "unauth",
      audit_non_hmac_request_keys: ["user", "role"],
      options: { version: "1" },
    });
    // Not given or "": kept. "system": the system's default again.
    expect((await call("POST", "sys/mounts/kv1/tune", { max_lease_ttl: "" })).status).toBe(204);
    expect((await call("POST", "sys/mounts/kv1/tune", { default_lease_ttl: "system" })).status).toBe(204);
    const mount = (await call("GET", "sys/mounts")).body.data["kv1/"];
    expect(mount).toMatchObject({
      description: "team secrets",
      config: { default_lease_ttl: 0, max_lease_ttl: 7200, listing_visibility: "unauth" },
    });
  });

  it("serves the new settings at once: a KV v1 read's lease is the tuned default", async () => {
    expect((await call("POST", "kv1/app", { user: "app" })).status).toBe(204);
    expect((await call("GET", "kv1/app")).body.lease_duration).toBe(2_764_800);
    expect((await call("POST", "sys/mounts/kv1/tune", { default_lease_ttl: "30m" })).status).toBe(204);
    expect((await call("GET", "kv1/app")).body.lease_duration).toBe(1800);
  });

  it("refuses what Vault refuses, and changes nothing then", async () => {
    expect((await call("POST", "sys/mounts/secret/tune", { max_lease_ttl: "1h" })).status).toBe(204);
    const before = (await call("GET", "sys/mounts/secret/tune")).body.data;
    for (const [body, error] of [
      [
        { default_lease_ttl: "2h" },
        "backend max lease TTL of 3600 would be less than backend default lease TTL of 7200",
      ],
      [
        { default_lease_ttl: "soon" },
        'invalid value for "default_lease_ttl": expected a duration such as "1h" or 3600',
      ],
      [{ listing_visibility: "everyone" }, "invalid listing_visibility everyone"],
      [{ options: { version: "1" } }, "cannot downgrade mount from version 2"],
      [
        { passthrough_request_headers: "X-Custom" },
        '"passthrough_request_headers" is not supported by Coffer\'s mount tuning engine',
      ],
      [{ token_type: "service" }, "token_type can only be tuned on auth methods"],
    ] as const) {
      const reply = await call("POST", "sys/mounts/secret/tune", { ...body, description: "changed" });
      expect({ body, status: reply.status, errors: reply.body.errors }).toEqual({
        body,
        status: 400,
        errors: [error],
      });
    }
    expect((await call("GET", "sys/mounts/secret/tune")).body.data).toEqual(before);
    // Empty values of unsupported fields are what tools send for "off".
    expect((await call("POST", "sys/mounts/secret/tune", { passthrough_request_headers: [] })).status).toBe(
      204,
    );
  });

  it("merges options, an empty value removing one, and refuses an in-place KV upgrade it cannot do", async () => {
    expect((await call("POST", "sys/mounts/kv1/tune", { options: { owner: "team-a" } })).status).toBe(204);
    expect((await call("POST", "sys/mounts/kv1/tune", { options: { version: "1", owner: "" } })).status).toBe(
      204,
    );
    expect((await call("GET", "sys/mounts/kv1/tune")).body.data.options).toEqual({ version: "1" });
    const upgrade = await call("POST", "sys/mounts/kv1/tune", { options: { version: "2" } });
    expect(upgrade.status).toBe(400);
    expect(upgrade.body.errors[0]).toMatch(
      /^upgrading a KV mount from version 1 to 2 in place is not supported/,
    );
  });

  it("lists a mount tuned to listing_visibility=unauth to every token in sys/internal/ui/mounts", async () => {
    const token = (await call("POST", "auth/token/create", { policies: ["default"] })).body.auth.client_token;
    const before = await call("GET", "sys/internal/ui/mounts", undefined, token);
    expect(Object.keys(before.body.data.secret)).not.toContain("kv1/");
    expect((await call("POST", "sys/mounts/kv1/tune", { listing_visibility: "unauth" })).status).toBe(204);
    const after = await call("GET", "sys/internal/ui/mounts", undefined, token);
    expect(Object.keys(after.body.data.secret)).toContain("kv1/");
    expect((await call("GET", "kv1/anything", undefined, token)).status).toBe(403);
  });

  it("answers a missing mount with a 400 naming it", async () => {
    const reply = await call("POST", "sys/mounts/nowhere/tune", { description: "x" });
    expect(reply).toMatchObject({ status: 400, body: { errors: ['no matching mount at "nowhere/"'] } });
  });
});

describe("sys/auth/:path/tune", () => {
  it("tunes an auth method's TTLs and description, and refuses token types Coffer does not issue", async () => {
    const tuned = await call("POST", "sys/auth/kubernetes/tune", {
      default_lease_ttl: "20m",
      description: "prod",
    });
    expect(tuned.status).toBe(204);
    expect((await call("GET", "sys/auth/kubernetes/tune")).body.data).toMatchObject({
      description: "prod",
      default_lease_ttl: 1200,
      token_type: "default-service",
    });
    expect((await call("GET", "sys/auth")).body.data["kubernetes/"].config.default_lease_ttl).toBe(1200);
    const batch = await call("POST", "sys/auth/kubernetes/tune", { token_type: "batch" });
    expect(batch.body.errors).toEqual([
      '"token_type" batch is not supported: Coffer issues service tokens only',
    ]);
    expect((await call("POST", "sys/auth/kubernetes/tune", { token_type: "default-service" })).status).toBe(
      204,
    );
  });

  it("keeps the built-in token method's settings fixed", async () => {
    const reply = await call("POST", "sys/auth/token/tune", { default_lease_ttl: "1h" });
    expect(reply).toMatchObject({
      status: 400,
      body: { errors: ["cannot tune auth/token/: the settings of built-in mounts are fixed"] },
    });
  });
});
