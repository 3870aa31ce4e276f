import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open } from "../../../shared/crypto/envelope.ts";
import type { Item } from "../../../shared/store/item-store.ts";
import { openTransitDeployment, type TransitDeployment } from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

const HOUR = 3600;

async function create(name: string, body: Record<string, unknown> = {}) {
  const reply = await h.call("POST", `transit/keys/${name}`, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.data;
}

/** Expects a 400 whose message says `message`, and that the transit items did not change. */
async function expectRefused(method: string, path: string, body: unknown, message: string | RegExp) {
  const before = await h.dump();
  const reply = await h.call(method, path, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(400);
  expect(reply.body.errors.join(" ")).toMatch(message);
  expect(await h.dump()).toEqual(before);
}

describe("keys/<name>", () => {
  it("creates an aes256-gcm96 key and reads it back in Vault's shape, without key material", async () => {
    const created = await create("orders");
    const read = await h.call("GET", "transit/keys/orders");
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual(created);
    expect(read.body.data).toEqual({
      allow_plaintext_backup: false,
      auto_rotate_period: 0,
      deletion_allowed: false,
      derived: false,
      exportable: false,
      imported_key: false,
      keys: { "1": Math.floor(h.clock.now() / 1000) },
      latest_version: 1,
      min_available_version: 0,
      min_decryption_version: 1,
      min_encryption_version: 0,
      name: "orders",
      supports_decryption: true,
      supports_derivation: true,
      supports_encryption: true,
      supports_signing: false,
      type: "aes256-gcm96",
    });
  });

  it("reports derivation and convergent encryption for derived keys", async () => {
    const data = await create("tenant", { derived: true, convergent_encryption: true });
    expect(data).toMatchObject({
      derived: true,
      kdf: "hkdf_sha256",
      convergent_encryption: true,
      convergent_encryption_version: 3,
    });
    const plain = await create("tenant2", { derived: "true" });
    expect(plain).toMatchObject({ derived: true, convergent_encryption: false });
    expect(plain.convergent_encryption_version).toBeUndefined();
  });

  it("creating an existing key changes nothing and warns", async () => {
    await create("dup");
    const before = await h.dump();
    const again = await h.call("POST", "transit/keys/dup", { derived: true });
    expect(again.status).toBe(200);
    expect(again.body.warnings).toEqual(["key dup already existed"]);
    expect(again.body.data.derived).toBe(false);
    expect(await h.dump()).toEqual(before);
  });

  it("ignores fields it does not know, naming them as Vault does", async () => {
    // Vault's keys/<name> takes no deletion_allowed: it is set through keys/<name>/config.
    const created = await h.call("POST", "transit/keys/typo", { dervied: true, deletion_allowed: true });
    expect(created.status).toBe(200);
    expect(created.body.warnings).toEqual([
      "Endpoint ignored these unrecognized parameters: [deletion_allowed dervied]",
    ]);
    expect(created.body.data).toMatchObject({ derived: false, deletion_allowed: false });
    // The name is a field too: one sent in the body is replaced by the path's, and said so.
    const named = await h.call("POST", "transit/keys/typo/config", { name: "other", typo: 1 });
    expect(named.body.warnings).toEqual([
      "Endpoint ignored these unrecognized parameters: [typo]",
      "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]",
    ]);
  });

  it("stores key material only sealed by the keyring, bound to the key", async () => {
    await create("sealed");
    await h.call("POST", "transit/keys/sealed/rotate");
    const items = await h.dump();
    const versions = items.filter((item) => item.sk.startsWith("version/sealed/"));
    expect(versions).toHaveLength(2);
    const mount = (await h.broker.mounts.list()).find((m) => m.path === "transit/")!;
    const policy = items.find((item) => item.sk === "key/sealed")!;
    const everything = Buffer.from(
      JSON.stringify(items, (_key, value) =>
        value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value,
      ),
    );
    for (const item of versions) {
      const binding = {
        mount: mount.uuid,
        key: "sealed",
        key_id: String(policy.key_id),
        version: String(item.version),
        purpose: "transit-key",
      };
      const raw = await open(h.broker.keyring, item.envelope as Uint8Array, binding);
      expect(raw).toHaveLength(32);
      // The material is nowhere in the store in clear, in any encoding we write.
      expect(everything.includes(Buffer.from(raw).toString("hex"))).toBe(false);
      expect(everything.includes(Buffer.from(raw).toString("base64"))).toBe(false);
      // Bound to its key and version: under another binding it does not open.
      await expect(
        open(h.broker.keyring, item.envelope as Uint8Array, { ...binding, version: "9" }),
      ).rejects.toThrow();
      await expect(
        open(h.broker.keyring, item.envelope as Uint8Array, { ...binding, key: "other" }),
      ).rejects.toThrow();
    }
  });

  it("answers 404 for a key that does not exist", async () => {
    const reply = await h.call("GET", "transit/keys/missing");
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ errors: [] });
  });

  it("refuses what it does not implement, naming it, and writes nothing", async () => {
    await expectRefused(
      "POST",
      "transit/keys/k",
      { type: "chacha20-poly1305" },
      /key type chacha20-poly1305 is not supported/,
    );
    await expectRefused("POST", "transit/keys/k", { type: "nonsense" }, /unknown key type nonsense/);
    await expectRefused("POST", "transit/keys/k", { exportable: true }, /exportable keys are not supported/);
    await expectRefused(
      "POST",
      "transit/keys/k",
      { allow_plaintext_backup: true },
      /plaintext backups are not supported/,
    );
    await expectRefused("POST", "transit/keys/k", { convergent_encryption: true }, /requires derivation/);
    await expectRefused("POST", "transit/keys/k", { auto_rotate_period: "30m" }, /at least an hour/);
    await expectRefused(
      "POST",
      "transit/keys/k",
      { auto_rotate_period: "soon" },
      /invalid value for "auto_rotate_period"/,
    );
    await expectRefused("POST", "transit/keys/k", { key_size: 64 }, /key_size is not valid/);
    await expectRefused("POST", "transit/keys/k", { managed_key_name: "hsm" }, /managed keys/);
    await expectRefused("POST", "transit/keys/k", { derived: "maybe" }, /invalid value for "derived"/);
    await expectRefused("POST", "transit/keys/bad%20name", {}, /invalid key name/);
    await expectRefused("POST", "transit/keys/-lead", {}, /invalid key name/);
    await expectRefused("POST", `transit/keys/${"a".repeat(129)}`, {}, /invalid key name/);
    expect((await h.call("GET", "transit/keys/k")).status).toBe(404);
  });

  it("accepts Vault's name characters", async () => {
    for (const name of ["a", "with-dash", "with.dot", "user@example.com", "under_score", "A1"])
      await create(name);
  });

  it("lists key names, and 404 when there are none", async () => {
    expect((await h.call("LIST", "transit/keys")).status).toBe(404);
    await create("b");
    await create("a");
    const listed = await h.call("GET", "transit/keys?list=true");
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual(["a", "b"]);
  });

  it("deletes a key only when deletion_allowed, and everything it stored with it", async () => {
    await create("gone");
    await h.call("POST", "transit/keys/gone/rotate");
    await expectRefused("DELETE", "transit/keys/gone", undefined, "deletion is not allowed for this key");
    await expectRefused("DELETE", "transit/keys/never", undefined, "could not delete key; not found");
    expect((await h.call("POST", "transit/keys/gone/config", { deletion_allowed: true })).status).toBe(200);
    expect((await h.call("DELETE", "transit/keys/gone")).status).toBe(204);
    expect((await h.call("GET", "transit/keys/gone")).status).toBe(404);
    expect((await h.dump()).filter((item) => item.sk.includes("gone"))).toEqual([]);
  });

  it("deletes a key with more versions than one write takes", async () => {
    await create("many", {});
    for (let i = 0; i < 120; i++) await h.call("POST", "transit/keys/many/rotate");
    await h.call("POST", "transit/keys/many/config", { deletion_allowed: true });
    expect((await h.call("DELETE", "transit/keys/many")).status).toBe(204);
    expect(await h.dump()).toEqual([]);
  });
});

describe("keys/<name>/config", () => {
  it("tunes the policy and returns the key", async () => {
    await create("k");
    await h.call("POST", "transit/keys/k/rotate");
    await h.call("POST", "transit/keys/k/rotate");
    const reply = await h.call("POST", "transit/keys/k/config", {
      min_decryption_version: 2,
      min_encryption_version: 3,
      deletion_allowed: true,
      auto_rotate_period: "24h",
    });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({
      min_decryption_version: 2,
      min_encryption_version: 3,
      deletion_allowed: true,
      auto_rotate_period: 24 * HOUR,
      latest_version: 3,
    });
    expect((await h.call("GET", "transit/keys/k")).body.data.auto_rotate_period).toBe(24 * HOUR);
  });

  it("shows versions from min_decryption_version on, as Vault's read does, and the others again when it is lowered", async () => {
    await create("k");
    await h.call("POST", "transit/keys/k/rotate");
    await h.call("POST", "transit/keys/k/rotate");
    const shown = async () => Object.keys((await h.call("GET", "transit/keys/k")).body.data.keys);
    expect(await shown()).toEqual(["1", "2", "3"]);
    const raised = await h.call("POST", "transit/keys/k/config", { min_decryption_version: 3 });
    expect(Object.keys(raised.body.data.keys)).toEqual(["3"]);
    expect(await shown()).toEqual(["3"]);
    await h.call("POST", "transit/keys/k/config", { min_decryption_version: 2 });
    expect(await shown()).toEqual(["2", "3"]);
  });

  it("forces min_decryption_version 0 to 1 with Vault's warning", async () => {
    await create("k");
    const reply = await h.call("POST", "transit/keys/k/config", { min_decryption_version: 0 });
    expect(reply.status).toBe(200);
    expect(reply.body.data.min_decryption_version).toBe(1);
    expect(reply.body.warnings[0]).toMatch(/forcing minimum to 1/);
  });

  it("refuses inconsistent settings with Vault's messages and changes nothing", async () => {
    await create("k");
    await h.call("POST", "transit/keys/k/rotate");
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { min_decryption_version: 3 },
      "cannot set min decryption version of 3, latest key version is 2",
    );
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { min_encryption_version: 5 },
      "cannot set min encryption version of 5, latest key version is 2",
    );
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { min_decryption_version: -1 },
      "min decryption version cannot be negative",
    );
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { min_encryption_version: -1 },
      "min encryption version cannot be negative",
    );
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { min_decryption_version: 2, min_encryption_version: 1 },
      /must be greater than or equal to min decryption version/,
    );
    await expectRefused("POST", "transit/keys/k/config", { auto_rotate_period: 60 }, /at least an hour/);
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { exportable: true },
      /exportable keys are not supported/,
    );
    await expectRefused(
      "POST",
      "transit/keys/k/config",
      { min_decryption_version: "two" },
      /expected an integer/,
    );
    await expectRefused(
      "POST",
      "transit/keys/nope/config",
      { deletion_allowed: true },
      "no existing key named nope could be found",
    );
  });

  it("writes nothing when nothing changes", async () => {
    await create("k");
    const writes = h.counters.writes;
    expect((await h.call("POST", "transit/keys/k/config", { deletion_allowed: false })).status).toBe(200);
    expect(h.counters.writes).toBe(writes);
  });
});

describe("keys/<name>/rotate", () => {
  it("adds a version with its creation time; one atomic write", async () => {
    await create("r");
    h.clock.advance(10_000);
    const writes = h.counters.writes;
    const reply = await h.call("POST", "transit/keys/r/rotate");
    expect(h.counters.writes - writes).toBe(1);
    expect(reply.status).toBe(200);
    expect(reply.body.data.latest_version).toBe(2);
    const start = Math.floor((h.clock.now() - 10_000) / 1000);
    expect(reply.body.data.keys).toEqual({ "1": start, "2": start + 10 });
  });

  it("loses no rotation to concurrency: each one adds exactly one version", async () => {
    await create("race");
    const other = await h.process();
    const replies = await Promise.all([
      ...Array.from({ length: 4 }, () => h.call("POST", "transit/keys/race/rotate")),
      ...Array.from({ length: 4 }, () => other.call("POST", "transit/keys/race/rotate")),
    ]);
    expect(replies.map((reply) => reply.status)).toEqual(Array(8).fill(200));
    const read = await h.call("GET", "transit/keys/race");
    expect(read.body.data.latest_version).toBe(9);
    expect(Object.keys(read.body.data.keys)).toHaveLength(9);
  });

  it("is a 400 for a missing key", async () => {
    await expectRefused("POST", "transit/keys/none/rotate", {}, "key not found");
  });
});

describe("keys/<name>/trim", () => {
  it("deletes versions below min_available_version and reports only the rest", async () => {
    await create("t");
    for (let i = 0; i < 4; i++) await h.call("POST", "transit/keys/t/rotate");
    await h.call("POST", "transit/keys/t/config", { min_decryption_version: 3, min_encryption_version: 4 });
    const reply = await h.call("POST", "transit/keys/t/trim", { min_available_version: 3 });
    expect(reply.status).toBe(200);
    expect(reply.body.data.min_available_version).toBe(3);
    expect(Object.keys(reply.body.data.keys)).toEqual(["3", "4", "5"]);
    const versions = (await h.dump())
      .filter((item: Item) => item.sk.startsWith("version/t/"))
      .map((item) => item.version);
    expect(versions).toEqual([3, 4, 5]);
  });

  it("follows Vault's rules and changes nothing on refusal", async () => {
    await create("t");
    await h.call("POST", "transit/keys/t/rotate");
    await h.call("POST", "transit/keys/t/rotate");
    await expectRefused(
      "POST",
      "transit/keys/t/trim",
      { min_available_version: 2 },
      /minimum encryption version is not set/,
    );
    await h.call("POST", "transit/keys/t/config", { min_decryption_version: 2, min_encryption_version: 2 });
    await expectRefused("POST", "transit/keys/t/trim", {}, "missing min_available_version");
    await expectRefused(
      "POST",
      "transit/keys/t/trim",
      { min_available_version: 3 },
      /cannot be greater than minimum encryption version/,
    );
    await expectRefused("POST", "transit/keys/t/trim", { min_available_version: 0 }, /should be positive/);
    await expectRefused("POST", "transit/keys/none/trim", { min_available_version: 1 }, "invalid key name");
    expect((await h.call("POST", "transit/keys/t/trim", { min_available_version: 2 })).status).toBe(200);
    await expectRefused(
      "POST",
      "transit/keys/t/trim",
      { min_available_version: 1 },
      "minimum available version cannot be decremented",
    );
    await expectRefused(
      "POST",
      "transit/keys/t/config",
      { min_decryption_version: 1 },
      /min decryption version should not be less than min available version/,
    );
  });
});

describe("config/keys", () => {
  it("reads and sets disable_upsert", async () => {
    expect((await h.call("GET", "transit/config/keys")).body.data).toEqual({ disable_upsert: false });
    const set = await h.call("POST", "transit/config/keys", { disable_upsert: true });
    expect(set.body.data).toEqual({ disable_upsert: true });
    expect((await h.call("GET", "transit/config/keys")).body.data).toEqual({ disable_upsert: true });
    await expectRefused("POST", "transit/config/keys", { disable_upsert: "perhaps" }, /expected a boolean/);
  });
});

describe("disabling the mount", () => {
  it("purges every key it stored", async () => {
    await create("a");
    await create("b");
    await h.call("POST", "transit/keys/a/rotate");
    expect((await h.dump()).length).toBeGreaterThan(0);
    const mount = (await h.broker.mounts.list()).find((m) => m.path === "transit/")!;
    expect((await h.call("DELETE", "sys/mounts/transit")).status).toBe(204);
    const left = await h.store.query({ pk: `transit/${mount.uuid}` });
    expect(left.items).toEqual([]);
  });
});
