import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_BATCH_ITEMS } from "../../../shared/engines/transit/batch.ts";
import { b64, openTransitDeployment, type TransitDeployment, unb64 } from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

const SECRET = "the quick brown fox";

async function ok(method: string, path: string, body?: unknown) {
  const reply = await h.call(method, path, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

async function encrypt(key: string, body: Record<string, unknown>) {
  return (await ok("POST", `transit/encrypt/${key}`, body)).data;
}

async function decrypt(key: string, body: Record<string, unknown>) {
  return (await ok("POST", `transit/decrypt/${key}`, body)).data;
}

/** A 400 naming `message`, never carrying the secret, and no transit item changed. */
async function expectRefused(path: string, body: unknown, message: string | RegExp) {
  const before = await h.dump();
  const reply = await h.call("POST", path, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(400);
  expect(reply.body.errors.join(" ")).toMatch(message);
  expect(JSON.stringify(reply.body)).not.toContain(b64(SECRET));
  expect(await h.dump()).toEqual(before);
}

function tamper(ciphertext: string): string {
  const [prefix, version, payload] = ciphertext.split(":");
  const bytes = Buffer.from(payload!, "base64");
  bytes[bytes.length - 1]! ^= 0x01;
  return `${prefix}:${version}:${bytes.toString("base64")}`;
}

describe("encrypt and decrypt", () => {
  it("round-trips base64 plaintext, binary and empty included", async () => {
    await ok("POST", "transit/keys/k");
    for (const plaintext of [b64(SECRET), "", Buffer.from([0, 255, 1, 254]).toString("base64")]) {
      const encrypted = await encrypt("k", { plaintext });
      expect(encrypted.ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);
      expect(encrypted.key_version).toBe(1);
      expect((await decrypt("k", { ciphertext: encrypted.ciphertext })).plaintext).toBe(plaintext);
    }
  });

  it("accepts base64 wrapped over lines, as `base64` prints it", async () => {
    await ok("POST", "transit/keys/k");
    const long = "x".repeat(200);
    const wrapped = b64(long).replace(/(.{76})/g, "$1\n");
    const { ciphertext } = await encrypt("k", { plaintext: wrapped });
    expect(unb64((await decrypt("k", { ciphertext })).plaintext)).toBe(long);
  });

  it("reads base64 as Go does: Vault's sample input `adba32==`, whose last bits are not zero, is accepted", async () => {
    await ok("POST", "transit/keys/k");
    const { ciphertext } = await encrypt("k", { plaintext: "adba32==" });
    // The same bytes come back, written canonically.
    expect((await decrypt("k", { ciphertext })).plaintext).toBe("adba3w==");
  });

  it("never repeats a ciphertext for a key that is not convergent", async () => {
    await ok("POST", "transit/keys/k");
    const a = await encrypt("k", { plaintext: b64(SECRET) });
    const b = await encrypt("k", { plaintext: b64(SECRET) });
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("round-trips across rotations; new ciphertext uses the newest version", async () => {
    await ok("POST", "transit/keys/k");
    const v1 = await encrypt("k", { plaintext: b64("one") });
    await ok("POST", "transit/keys/k/rotate");
    const v2 = await encrypt("k", { plaintext: b64("two") });
    await ok("POST", "transit/keys/k/rotate");
    const v3 = await encrypt("k", { plaintext: b64("three") });
    expect([v1.key_version, v2.key_version, v3.key_version]).toEqual([1, 2, 3]);
    expect(v3.ciphertext.startsWith("vault:v3:")).toBe(true);
    expect(unb64((await decrypt("k", { ciphertext: v1.ciphertext })).plaintext)).toBe("one");
    expect(unb64((await decrypt("k", { ciphertext: v2.ciphertext })).plaintext)).toBe("two");
    expect(unb64((await decrypt("k", { ciphertext: v3.ciphertext })).plaintext)).toBe("three");
  });

  it("encrypts with an older key_version only from min_encryption_version on", async () => {
    await ok("POST", "transit/keys/k");
    await ok("POST", "transit/keys/k/rotate");
    await ok("POST", "transit/keys/k/rotate");
    const old = await encrypt("k", { plaintext: b64(SECRET), key_version: 1 });
    expect(old.ciphertext.startsWith("vault:v1:")).toBe(true);
    await ok("POST", "transit/keys/k/config", { min_encryption_version: 2 });
    await expectRefused(
      "transit/encrypt/k",
      { plaintext: b64(SECRET), key_version: 1 },
      /less than the minimum encryption key version/,
    );
    await expectRefused(
      "transit/encrypt/k",
      { plaintext: b64(SECRET), key_version: 4 },
      /higher than the latest key version/,
    );
    expect((await encrypt("k", { plaintext: b64(SECRET), key_version: 2 })).key_version).toBe(2);
  });

  it("min_decryption_version refuses older ciphertext, and lowering it again restores it", async () => {
    await ok("POST", "transit/keys/k");
    const v1 = await encrypt("k", { plaintext: b64(SECRET) });
    await ok("POST", "transit/keys/k/rotate");
    const v2 = await encrypt("k", { plaintext: b64(SECRET) });
    await ok("POST", "transit/keys/k/config", { min_decryption_version: 2 });
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: v1.ciphertext },
      "ciphertext or signature version is disallowed by policy (too old)",
    );
    expect(unb64((await decrypt("k", { ciphertext: v2.ciphertext })).plaintext)).toBe(SECRET);
    await ok("POST", "transit/keys/k/config", { min_decryption_version: 1 });
    expect(unb64((await decrypt("k", { ciphertext: v1.ciphertext })).plaintext)).toBe(SECRET);
  });

  it("a trimmed version is gone for good", async () => {
    await ok("POST", "transit/keys/k");
    const v1 = await encrypt("k", { plaintext: b64(SECRET) });
    await ok("POST", "transit/keys/k/rotate");
    await ok("POST", "transit/keys/k/config", { min_decryption_version: 2, min_encryption_version: 2 });
    await ok("POST", "transit/keys/k/trim", { min_available_version: 2 });
    await expectRefused("transit/keys/k/config", { min_decryption_version: 1 }, /min available version/);
    await expectRefused("transit/decrypt/k", { ciphertext: v1.ciphertext }, /disallowed by policy/);
  });

  it("binds associated_data: the same data decrypts, any other does not", async () => {
    await ok("POST", "transit/keys/k");
    const { ciphertext } = await encrypt("k", { plaintext: b64(SECRET), associated_data: b64("row 42") });
    expect(unb64((await decrypt("k", { ciphertext, associated_data: b64("row 42") })).plaintext)).toBe(
      SECRET,
    );
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext, associated_data: b64("row 43") },
      "invalid ciphertext: unable to decrypt",
    );
    await expectRefused("transit/decrypt/k", { ciphertext }, "invalid ciphertext: unable to decrypt");
  });

  it("ignores a caller's nonce, with a warning", async () => {
    await ok("POST", "transit/keys/k");
    const nonce = Buffer.alloc(12).toString("base64");
    const reply = await ok("POST", "transit/encrypt/k", { plaintext: b64(SECRET), nonce });
    expect(reply.warnings[0]).toMatch(/nonce was ignored/);
    const again = await ok("POST", "transit/encrypt/k", { plaintext: b64(SECRET), nonce });
    expect(again.data.ciphertext).not.toBe(reply.data.ciphertext);
  });
});

describe("bad ciphertext and bad input: a clear 400 each", () => {
  let good: string;
  beforeEach(async () => {
    await ok("POST", "transit/keys/k");
    await ok("POST", "transit/keys/other");
    good = (await encrypt("k", { plaintext: b64(SECRET) })).ciphertext;
  });

  it("tampered ciphertext", async () => {
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: tamper(good) },
      "invalid ciphertext: unable to decrypt",
    );
    const truncated = `vault:v1:${Buffer.from(good.split(":")[2]!, "base64").subarray(0, 20).toString("base64")}`;
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: truncated },
      "invalid ciphertext: unable to decrypt",
    );
  });

  it("ciphertext of another key", async () => {
    await expectRefused(
      "transit/decrypt/other",
      { ciphertext: good },
      "invalid ciphertext: unable to decrypt",
    );
  });

  it("an unknown key version", async () => {
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: good.replace("vault:v1:", "vault:v7:") },
      "invalid ciphertext: version is too new",
    );
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: good.replace("vault:v1:", "vault:v0:") },
      /version number could not be decoded/,
    );
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: good.replace("vault:v1:", "vault:vx:") },
      /version number could not be decoded/,
    );
  });

  it("ignores fields it does not know, at the top as Vault warns, in batch items as Vault does silently", async () => {
    const single = await ok("POST", "transit/encrypt/k", { plaintext: b64(SECRET), plaintxt: "x" });
    expect(single.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [plaintxt]"]);
    const batch = await ok("POST", "transit/encrypt/k", {
      batch_input: [{ plaintext: b64(SECRET), colour: "blue" }],
    });
    expect(batch.warnings).toBeNull();
    expect(batch.data.batch_results[0].ciphertext).toMatch(/^vault:v1:/);
  });

  it("malformed ciphertext and base64", async () => {
    await expectRefused("transit/decrypt/k", { ciphertext: "garbage" }, "invalid ciphertext: no prefix");
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: "vault:v1" },
      "invalid ciphertext: wrong number of fields",
    );
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: "vault:v1:not base64!" },
      "invalid ciphertext: could not decode base64",
    );
    await expectRefused("transit/decrypt/k", { ciphertext: "" }, "missing ciphertext to decrypt");
    await expectRefused("transit/decrypt/k", {}, "missing ciphertext to decrypt");
    await expectRefused("transit/encrypt/k", { plaintext: "@@@" }, "invalid plaintext: not valid base64");
    await expectRefused("transit/encrypt/k", {}, "missing plaintext to encrypt");
    await expectRefused("transit/encrypt/k", { plaintext: 42 }, /invalid value for "plaintext"/);
    await expectRefused(
      "transit/decrypt/k",
      { ciphertext: good, context: "%%" },
      "invalid context: not valid base64",
    );
    await expectRefused(
      "transit/encrypt/k",
      { plaintext: b64(SECRET), padding_scheme: "oaep" },
      /applies only to RSA keys/,
    );
  });

  it("a missing key on decrypt, rewrap and datakey", async () => {
    await expectRefused("transit/decrypt/none", { ciphertext: good }, "encryption key not found");
    await expectRefused("transit/rewrap/none", { ciphertext: good }, "encryption key not found");
    await expectRefused("transit/datakey/plaintext/none", {}, "encryption key not found");
  });
});

describe("derived keys", () => {
  beforeEach(async () => {
    await ok("POST", "transit/keys/d", { derived: true });
  });

  it("need a context; the same context decrypts, another does not", async () => {
    const alice = b64("tenant-alice");
    await expectRefused(
      "transit/encrypt/d",
      { plaintext: b64(SECRET) },
      /missing 'context' for key derivation/,
    );
    const { ciphertext } = await encrypt("d", { plaintext: b64(SECRET), context: alice });
    expect(unb64((await decrypt("d", { ciphertext, context: alice })).plaintext)).toBe(SECRET);
    await expectRefused(
      "transit/decrypt/d",
      { ciphertext, context: b64("tenant-bob") },
      "invalid ciphertext: unable to decrypt",
    );
    await expectRefused("transit/decrypt/d", { ciphertext }, /missing 'context' for key derivation/);
  });

  it("convergent keys give the same ciphertext for the same input, and only then", async () => {
    await ok("POST", "transit/keys/c", { derived: true, convergent_encryption: true });
    const context = b64("ctx");
    const a = await encrypt("c", { plaintext: b64(SECRET), context });
    const b = await encrypt("c", { plaintext: b64(SECRET), context });
    expect(a.ciphertext).toBe(b.ciphertext);
    const otherText = await encrypt("c", { plaintext: b64(`${SECRET}!`), context });
    const otherContext = await encrypt("c", { plaintext: b64(SECRET), context: b64("ctx2") });
    const otherData = await encrypt("c", { plaintext: b64(SECRET), context, associated_data: b64("aad") });
    const nonces = [a, otherText, otherContext, otherData].map((x) =>
      Buffer.from(x.ciphertext.split(":")[2], "base64").subarray(0, 12).toString("hex"),
    );
    expect(new Set(nonces).size).toBe(4);
    expect(unb64((await decrypt("c", { ciphertext: a.ciphertext, context })).plaintext)).toBe(SECRET);
    await ok("POST", "transit/keys/c/rotate");
    const rotated = await encrypt("c", { plaintext: b64(SECRET), context });
    expect(rotated.ciphertext).not.toBe(a.ciphertext);
  });

  it("a key that is not derived ignores a context, as Vault does", async () => {
    await ok("POST", "transit/keys/plain");
    const { ciphertext } = await encrypt("plain", { plaintext: b64(SECRET), context: b64("x") });
    expect(unb64((await decrypt("plain", { ciphertext })).plaintext)).toBe(SECRET);
  });
});

describe("upsert on encrypt", () => {
  it("creates a missing key for a caller holding create and update (root)", async () => {
    const { ciphertext } = await encrypt("fresh", { plaintext: b64(SECRET) });
    expect(ciphertext.startsWith("vault:v1:")).toBe(true);
    const key = await ok("GET", "transit/keys/fresh");
    expect(key.data.derived).toBe(false);
    await encrypt("fresh-derived", {
      plaintext: b64(SECRET),
      context: b64("c"),
      convergent_encryption: true,
    });
    expect((await ok("GET", "transit/keys/fresh-derived")).data).toMatchObject({
      derived: true,
      convergent_encryption: true,
    });
  });

  it("creates for create-only callers, refuses update-only callers", async () => {
    // Policies that tell create from update on encrypt, in Vault's policy language.
    const creator = await h.tokenWith({
      "transit-create": 'path "transit/encrypt/*" { capabilities = ["create"] }',
    });
    const updater = await h.tokenWith({
      "transit-update": 'path "transit/encrypt/*" { capabilities = ["update"] }',
    });
    // As in Vault: encrypting under a missing key is a create, which this caller may not.
    const denied = await h.call("POST", "transit/encrypt/by-updater", { plaintext: b64(SECRET) }, updater);
    expect(denied.status).toBe(403);
    expect((await h.call("GET", "transit/keys/by-updater")).status).toBe(404);
    const created = await h.call("POST", "transit/encrypt/by-creator", { plaintext: b64(SECRET) }, creator);
    expect(created.status).toBe(200);
    // Now that it exists, encrypting is an update: the creator may not, the updater may.
    expect(
      (await h.call("POST", "transit/encrypt/by-creator", { plaintext: b64(SECRET) }, creator)).status,
    ).toBe(403);
    expect(
      (await h.call("POST", "transit/encrypt/by-creator", { plaintext: b64(SECRET) }, updater)).status,
    ).toBe(200);
  });

  it("is off when config/keys disables it", async () => {
    await ok("POST", "transit/config/keys", { disable_upsert: true });
    await expectRefused("transit/encrypt/nope", { plaintext: b64(SECRET) }, "encryption key not found");
  });

  it("refuses bad creation parameters and creates nothing", async () => {
    await expectRefused("transit/encrypt/x", { plaintext: b64(SECRET), type: "rsa-4096" }, /not supported/);
    await expectRefused(
      "transit/encrypt/x",
      { plaintext: b64(SECRET), convergent_encryption: true },
      /convergent encryption requires derivation/,
    );
    expect((await h.call("GET", "transit/keys/x")).status).toBe(404);
  });
});

describe("batch_input", () => {
  beforeEach(async () => {
    await ok("POST", "transit/keys/k");
  });

  it("encrypts and decrypts many items in order, with references", async () => {
    const items = ["a", "b", "c"].map((text, i) => ({ plaintext: b64(text), reference: `ref-${i}` }));
    const encrypted = await encrypt("k", { batch_input: items });
    expect(encrypted.batch_results).toHaveLength(3);
    expect(encrypted.batch_results.map((r: { reference: string }) => r.reference)).toEqual([
      "ref-0",
      "ref-1",
      "ref-2",
    ]);
    expect(encrypted.batch_results.every((r: { key_version: number }) => r.key_version === 1)).toBe(true);
    const decrypted = await decrypt("k", {
      batch_input: encrypted.batch_results.map((r: { ciphertext: string }) => ({ ciphertext: r.ciphertext })),
    });
    expect(decrypted.batch_results.map((r: { plaintext: string }) => unb64(r.plaintext))).toEqual([
      "a",
      "b",
      "c",
    ]);
    expect(decrypted.batch_results[0].reference).toBe("");
  });

  it("fails items one by one: 400 with every result, good items still answered", async () => {
    const good = (await encrypt("k", { plaintext: b64(SECRET) })).ciphertext;
    const before = await h.dump();
    const reply = await h.call("POST", "transit/decrypt/k", {
      batch_input: [
        { ciphertext: good, reference: "good" },
        { ciphertext: tamper(good), reference: "tampered" },
        { ciphertext: "vault:v9:AAAA", reference: "unknown version" },
        { ciphertext: "nonsense" },
        { ciphertext: 5 },
      ],
    });
    expect(reply.status).toBe(400);
    const results = reply.body.data.batch_results;
    expect(unb64(results[0].plaintext)).toBe(SECRET);
    expect(results[1]).toEqual({ error: "invalid ciphertext: unable to decrypt", reference: "tampered" });
    expect(results[2].error).toBe("invalid ciphertext: version is too new");
    expect(results[3].error).toBe("invalid ciphertext: no prefix");
    expect(results[4].error).toMatch(/invalid value for "ciphertext"/);
    expect(await h.dump()).toEqual(before);
  });

  it("partial_failure_response_code replaces 400 when some items succeed, not when all fail", async () => {
    const mixed = await h.call("POST", "transit/encrypt/k", {
      partial_failure_response_code: 207,
      batch_input: [{ plaintext: b64("x") }, { plaintext: "!!" }],
    });
    expect(mixed.status).toBe(207);
    const allBad = await h.call("POST", "transit/encrypt/k", {
      partial_failure_response_code: 207,
      batch_input: [{ plaintext: "!!" }],
    });
    expect(allBad.status).toBe(400);
    const invalid = await h.call("POST", "transit/encrypt/k", {
      partial_failure_response_code: 204,
      batch_input: [{ plaintext: b64("x") }, { plaintext: "!!" }],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.warnings[0]).toMatch(/invalid HTTP response code override/);
  });

  it("refuses a malformed batch as a whole", async () => {
    await expectRefused("transit/encrypt/k", { batch_input: "nope" }, /expected a list of objects/);
    await expectRefused("transit/encrypt/k", { batch_input: [] }, "missing batch input to process");
    await expectRefused(
      "transit/encrypt/k",
      { batch_input: [{ plaintext: b64("x") }, 3] },
      /batch_input\[1\]/,
    );
    await expectRefused(
      "transit/encrypt/k",
      { batch_input: [{ plaintext: b64("x"), context: b64("c") }, { plaintext: b64("y") }] },
      "context should be set either in all the request blocks or in none",
    );
  });

  it(`takes at most ${MAX_BATCH_ITEMS} items: 413 beyond, nothing created`, async () => {
    const items = Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({ plaintext: "" }));
    const reply = await h.call("POST", "transit/encrypt/new-key", { batch_input: items });
    expect(reply.status).toBe(413);
    expect((await h.call("GET", "transit/keys/new-key")).status).toBe(404);
    const full = await h.call("POST", "transit/encrypt/k", { batch_input: items.slice(1) });
    expect(full.status).toBe(200);
    expect(full.body.data.batch_results).toHaveLength(MAX_BATCH_ITEMS);
  });

  it("refuses bodies over the request limit with 413", async () => {
    const reply = await h.call("POST", "transit/encrypt/k", { plaintext: "A".repeat(1024 * 1024 + 4) });
    expect(reply.status).toBe(413);
  });
});

describe("rewrap", () => {
  it("moves ciphertext to the newest version without returning plaintext", async () => {
    await ok("POST", "transit/keys/k");
    const v1 = await encrypt("k", { plaintext: b64(SECRET) });
    await ok("POST", "transit/keys/k/rotate");
    await ok("POST", "transit/keys/k/rotate");
    const reply = await ok("POST", "transit/rewrap/k", { ciphertext: v1.ciphertext });
    expect(Object.keys(reply.data).sort()).toEqual(["ciphertext", "key_version"]);
    expect(reply.data.key_version).toBe(3);
    expect(reply.data.ciphertext.startsWith("vault:v3:")).toBe(true);
    expect(JSON.stringify(reply)).not.toContain(b64(SECRET));
    await ok("POST", "transit/keys/k/config", { min_decryption_version: 3 });
    expect(unb64((await decrypt("k", { ciphertext: reply.data.ciphertext })).plaintext)).toBe(SECRET);
  });

  it("rewraps derived, associated-data and batch items, and fails bad ones one by one", async () => {
    await ok("POST", "transit/keys/d", { derived: true });
    const context = b64("ctx");
    const a = await encrypt("d", { plaintext: b64("a"), context, associated_data: b64("ad") });
    await ok("POST", "transit/keys/d/rotate");
    const reply = await h.call("POST", "transit/rewrap/d", {
      batch_input: [
        { ciphertext: a.ciphertext, context, associated_data: b64("ad"), reference: "r1" },
        { ciphertext: a.ciphertext, context: b64("wrong") },
        { ciphertext: a.ciphertext, context, associated_data: b64("ad"), key_version: 1 },
      ],
    });
    expect(reply.status).toBe(400);
    const [first, second, third] = reply.body.data.batch_results;
    expect(first).toMatchObject({ key_version: 2, reference: "r1" });
    expect(second.error).toBe("invalid ciphertext: unable to decrypt");
    expect(third.key_version).toBe(1);
    expect(
      unb64(
        (await decrypt("d", { ciphertext: first.ciphertext, context, associated_data: b64("ad") })).plaintext,
      ),
    ).toBe("a");
  });
});

describe("datakey", () => {
  beforeEach(async () => {
    await ok("POST", "transit/keys/k");
  });

  it("plaintext returns the key and its ciphertext; the ciphertext decrypts to it", async () => {
    for (const bits of [128, 256, 512]) {
      const { data } = await ok("POST", "transit/datakey/plaintext/k", { bits });
      expect(Buffer.from(data.plaintext, "base64")).toHaveLength(bits / 8);
      expect(data.key_version).toBe(1);
      expect((await decrypt("k", { ciphertext: data.ciphertext })).plaintext).toBe(data.plaintext);
    }
  });

  it("wrapped returns only the ciphertext", async () => {
    const { data } = await ok("POST", "transit/datakey/wrapped/k", {});
    expect(Object.keys(data).sort()).toEqual(["ciphertext", "key_version"]);
    expect(
      Buffer.from((await decrypt("k", { ciphertext: data.ciphertext })).plaintext, "base64"),
    ).toHaveLength(32);
  });

  it("refuses bad bits and kinds", async () => {
    await expectRefused("transit/datakey/plaintext/k", { bits: 64 }, /invalid bits length/);
    await expectRefused("transit/datakey/both/k", {}, /invalid path/);
  });

  it("derived keys need the context for datakeys too", async () => {
    await ok("POST", "transit/keys/d", { derived: true });
    await expectRefused("transit/datakey/wrapped/d", {}, /missing 'context'/);
    const { data } = await ok("POST", "transit/datakey/wrapped/d", { context: b64("c") });
    expect((await decrypt("d", { ciphertext: data.ciphertext, context: b64("c") })).plaintext).toBeTypeOf(
      "string",
    );
  });
});
