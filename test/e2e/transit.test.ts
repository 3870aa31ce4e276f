/**
 * Transit as a user meets it: `coffer dev` serves `transit/` out of the box, over real
 * HTTP, and a restart on the same data directory keeps the keys, and only them, sealed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";

const SECRET = "transit-e2e-secret-7d1c";
const b64 = (text: string) => Buffer.from(text).toString("base64");

const server = useDevServer({ inMemory: false });

describe("transit in coffer dev", () => {
  it("is mounted at transit/ by default", async () => {
    const mounts = await server.call("GET", "sys/mounts");
    expect(mounts.body.data["transit/"]).toMatchObject({ type: "transit" });
  });

  it("creates a key, encrypts, rotates, rewraps and decrypts over HTTP", async () => {
    expect((await server.call("POST", "transit/keys/app")).status).toBe(200);
    const encrypted = await server.call("POST", "transit/encrypt/app", { plaintext: b64(SECRET) });
    expect(encrypted.status).toBe(200);
    const v1 = encrypted.body.data.ciphertext as string;
    expect(v1.startsWith("vault:v1:")).toBe(true);
    expect((await server.call("POST", "transit/keys/app/rotate")).body.data.latest_version).toBe(2);
    const rewrapped = await server.call("POST", "transit/rewrap/app", { ciphertext: v1 });
    expect(rewrapped.body.data.ciphertext.startsWith("vault:v2:")).toBe(true);
    const decrypted = await server.call("POST", "transit/decrypt/app", {
      ciphertext: rewrapped.body.data.ciphertext,
    });
    expect(Buffer.from(decrypted.body.data.plaintext, "base64").toString()).toBe(SECRET);
    const listed = await server.call("LIST", "transit/keys");
    expect(listed.body.data.keys).toEqual(["app"]);
  });

  it("survives a restart with its keys, and stores neither plaintext nor key material in clear", async () => {
    const { ciphertext } = (await server.call("POST", "transit/encrypt/app", { plaintext: b64(SECRET) })).body
      .data;
    await server.restart();
    const mounts = Object.keys((await server.call("GET", "sys/mounts")).body.data).filter((path) =>
      path.startsWith("transit"),
    );
    expect(mounts).toEqual(["transit/"]);
    const decrypted = await server.call("POST", "transit/decrypt/app", { ciphertext });
    expect(Buffer.from(decrypted.body.data.plaintext, "base64").toString()).toBe(SECRET);
    await server.close();
    // The database with its journal, and the audit log: the secret is in none of them.
    for (const file of readdirSync(server.home)) {
      const bytes = readFileSync(join(server.home, file));
      expect(bytes.includes(Buffer.from(SECRET)), file).toBe(false);
      expect(bytes.includes(Buffer.from(b64(SECRET))), file).toBe(false);
    }
    await server.start();
  });
});
