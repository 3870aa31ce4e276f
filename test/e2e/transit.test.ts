/**
 * Transit as a user meets it: `coffer dev` serves `transit/` out of the box, over real
 * HTTP, and a restart on the same data directory keeps the keys, and only them, sealed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../../cli/dev.ts";

const ROOT = "e2e-transit-root";
const SECRET = "transit-e2e-secret-7d1c";
const b64 = (text: string) => Buffer.from(text).toString("base64");

let dataDir: string;
let server: DevServer;

async function start(): Promise<DevServer> {
  return startDevServer({ port: 0, host: "127.0.0.1", dataDir, inMemory: false, rootToken: ROOT });
}

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": ROOT, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "coffer-transit-"));
  server = await start();
});
afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("transit in coffer dev", () => {
  it("is mounted at transit/ by default", async () => {
    const mounts = await call("GET", "sys/mounts");
    expect(mounts.body.data["transit/"]).toMatchObject({ type: "transit" });
  });

  it("creates a key, encrypts, rotates, rewraps and decrypts over HTTP", async () => {
    expect((await call("POST", "transit/keys/app")).status).toBe(200);
    const encrypted = await call("POST", "transit/encrypt/app", { plaintext: b64(SECRET) });
    expect(encrypted.status).toBe(200);
    const v1 = encrypted.body.data.ciphertext as string;
    expect(v1.startsWith("vault:v1:")).toBe(true);
    expect((await call("POST", "transit/keys/app/rotate")).body.data.latest_version).toBe(2);
    const rewrapped = await call("POST", "transit/rewrap/app", { ciphertext: v1 });
    expect(rewrapped.body.data.ciphertext.startsWith("vault:v2:")).toBe(true);
    const decrypted = await call("POST", "transit/decrypt/app", {
      ciphertext: rewrapped.body.data.ciphertext,
    });
    expect(Buffer.from(decrypted.body.data.plaintext, "base64").toString()).toBe(SECRET);
    const listed = await call("LIST", "transit/keys");
    expect(listed.body.data.keys).toEqual(["app"]);
  });

  it("survives a restart with its keys, and stores neither plaintext nor key material in clear", async () => {
    const { ciphertext } = (await call("POST", "transit/encrypt/app", { plaintext: b64(SECRET) })).body.data;
    await server.close();
    server = await start();
    const mounts = Object.keys((await call("GET", "sys/mounts")).body.data).filter((path) =>
      path.startsWith("transit"),
    );
    expect(mounts).toEqual(["transit/"]);
    const decrypted = await call("POST", "transit/decrypt/app", { ciphertext });
    expect(Buffer.from(decrypted.body.data.plaintext, "base64").toString()).toBe(SECRET);
    await server.close();
    // The database with its journal, and the audit log: the secret is in none of them.
    for (const file of readdirSync(dataDir)) {
      const bytes = readFileSync(join(dataDir, file));
      expect(bytes.includes(Buffer.from(SECRET)), file).toBe(false);
      expect(bytes.includes(Buffer.from(b64(SECRET))), file).toBe(false);
    }
    server = await start();
  });
});
