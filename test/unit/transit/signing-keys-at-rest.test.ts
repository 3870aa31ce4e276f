/**
 * A signing key's material at rest, and what leaves the broker: private keys only sealed
 * by the keyring and bound to their key and version, public keys in clear under the item
 * MAC, and `export/public-key` as Vault answers it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open } from "../../../shared/crypto/envelope.ts";
import type { Item } from "../../../shared/store/item-store.ts";
import {
  b64,
  dataOf,
  expectRefusal,
  openTransitDeployment,
  type TransitDeployment,
} from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

const INPUT = b64("the quick brown fox");

async function versionItem(name: string, version: number): Promise<Item> {
  const item = (await h.dump()).find(
    (found) => found.sk === `version/${name}/${String(version).padStart(10, "0")}`,
  );
  expect(item, `version ${version} of ${name}`).toBeDefined();
  return item!;
}

async function bindingOf(name: string, version: number) {
  const mount = (await h.broker.mounts.list()).find((m) => m.path === "transit/")!;
  const policy = (await h.dump()).find((item) => item.sk === `key/${name}`)!;
  return { mount: mount.uuid, key: name, key_id: String(policy.key_id), version: String(version) };
}

describe("signing keys at rest", () => {
  it("stores each version's private key only sealed, bound to the key and version, and its public key in clear", async () => {
    await dataOf(h, "POST", "transit/keys/ec", { type: "ecdsa-p256" });
    await dataOf(h, "POST", "transit/keys/ec/rotate");
    const shown = (await dataOf(h, "GET", "transit/keys/ec")).keys;
    const everything = Buffer.from(
      JSON.stringify(await h.dump(), (_key, value) =>
        value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value,
      ),
    ).toString();
    for (const version of [1, 2]) {
      const item = await versionItem("ec", version);
      const binding = { ...(await bindingOf("ec", version)), purpose: "transit-signing-key" };
      const pkcs8 = await open(h.broker.keyring, item.private_key as Uint8Array, binding);
      const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
      const publicKey = createPublicKey(shown[String(version)].public_key);
      // The sealed private key is the one whose public key is shown and stored.
      expect(createPublicKey(privateKey).export({ format: "jwk" })).toEqual(
        publicKey.export({ format: "jwk" }),
      );
      expect(Buffer.from(item.public_key as Uint8Array)).toEqual(
        publicKey.export({ format: "der", type: "spki" }),
      );
      // Nowhere in the store in clear, in any encoding we write.
      expect(everything.includes(Buffer.from(pkcs8).toString("hex"))).toBe(false);
      expect(everything.includes(Buffer.from(pkcs8).toString("base64"))).toBe(false);
      // Bound to its purpose, key and version.
      for (const other of [
        { ...binding, purpose: "transit-key" },
        { ...binding, version: String(3 - version) },
        { ...binding, key: "other" },
      ]) {
        await expect(open(h.broker.keyring, item.private_key as Uint8Array, other)).rejects.toThrow();
      }
    }
  });

  it("a derived Ed25519 key has no key pair: its keys derive from the version's sealed secret", async () => {
    await dataOf(h, "POST", "transit/keys/tenant", { type: "ed25519", derived: true });
    const item = await versionItem("tenant", 1);
    expect(item.private_key).toBeUndefined();
    expect(item.public_key).toBeUndefined();
    expect(item.envelope).toBeInstanceOf(Uint8Array);
  });

  it("a public key replaced in the table is not trusted: a forger's signature never verifies", async () => {
    await dataOf(h, "POST", "transit/keys/ed", { type: "ed25519" });
    const forger = generateKeyPairSync("ed25519");
    const item = await versionItem("ed", 1);
    const { mac: _mac, ...unsigned } = item;
    await h.store.write([
      {
        op: "put",
        item: {
          ...unsigned,
          public_key: new Uint8Array(forger.publicKey.export({ format: "der", type: "spki" })),
        },
      },
    ]);
    const forged = sign(null, Buffer.from(INPUT, "base64"), forger.privateKey).toString("base64");
    // A fresh process: nothing of the key is cached.
    const other = await h.process();
    const reply = await other.call("POST", "transit/verify/ed", {
      input: INPUT,
      signature: `vault:v1:${forged}`,
    });
    expect(reply.status).not.toBe(200);
    expect(JSON.stringify(reply.body)).not.toContain('"valid":true');
  });
});

describe("export/public-key", () => {
  it("exports each version's public key as Vault does: trimmed PEM for ECDSA, PEM for RSA, base64 for Ed25519", async () => {
    for (const type of ["ecdsa-p384", "rsa-2048", "ed25519"]) {
      await dataOf(h, "POST", `transit/keys/${type}`, { type });
      await dataOf(h, "POST", `transit/keys/${type}/rotate`);
      const shown = (await dataOf(h, "GET", `transit/keys/${type}`)).keys;
      const exported = await dataOf(h, "GET", `transit/export/public-key/${type}`);
      const expected = (version: string) =>
        type === "rsa-2048" ? shown[version].public_key : shown[version].public_key.trim();
      expect(exported).toEqual({ name: type, type, keys: { "1": expected("1"), "2": expected("2") } });
      for (const version of ["1", "v1"]) {
        expect(await dataOf(h, "GET", `transit/export/public-key/${type}/${version}`)).toEqual({
          name: type,
          type,
          keys: { "1": expected("1") },
        });
      }
      expect((await dataOf(h, "GET", `transit/export/public-key/${type}/latest`)).keys).toEqual({
        "2": expected("2"),
      });
    }
  });

  it("refuses what Vault refuses, and private material always", async () => {
    await dataOf(h, "POST", "transit/keys/ec", { type: "ecdsa-p256" });
    await dataOf(h, "POST", "transit/keys/aes");
    const refused = (path: string, message: string) =>
      expectRefusal(h, "GET", `transit/export/${path}`, undefined, message);
    for (const type of ["encryption-key", "signing-key", "hmac-key"]) {
      await refused(`${type}/ec`, "private key material is not exportable");
      await refused(`${type}/aes`, "private key material is not exportable");
    }
    await refused("public-key/aes", "unknown key type aes256-gcm96 for export type public-key");
    await refused("nonsense/ec", "invalid export type: nonsense");
    await refused("cmac-key/ec", "CMAC operations are only available in enterprise versions of Vault");
    await refused("certificate-chain/ec", "selected key version does not have a certificate chain imported");
    await refused(
      "certificate-chain/aes",
      "certificate chain not supported for keys that do not support signing",
    );
    await refused("public-key/ec/x", "invalid key version");
    await refused("public-key/ec/7", "version does not exist or cannot be found");
    await dataOf(h, "POST", "transit/keys/ec/rotate");
    await dataOf(h, "POST", "transit/keys/ec/config", { min_decryption_version: 2 });
    await refused("public-key/ec/1", "version for export is below minimum decryption version");
    expect(Object.keys((await dataOf(h, "GET", "transit/export/public-key/ec")).keys)).toEqual(["2"]);
    const missing = await h.call("GET", "transit/export/public-key/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [] });
  });
});
