/**
 * KV as a Vault client meets it over real HTTP against `coffer dev` (a SQLite file): the
 * vault CLI's preflight, KV v2's whole life cycle, the LIST method, merge patches, and a
 * KV v1 mount, with Vault's statuses for what goes wrong.
 */
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { secretPk, versionSk } from "../../shared/engines/kv/storage.ts";
import { useDevServer } from "../support/dev-server.ts";

describe("KV over HTTP", () => {
  const server = useDevServer({ inMemory: false });

  /** LIST is not a method fetch sends. */
  function list(path: string): Promise<{ status: number; body: { data?: { keys: string[] } } }> {
    const { hostname, port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          hostname,
          port,
          method: "LIST",
          path: `/v1/${path}`,
          headers: { "X-Vault-Token": server.rootToken },
        },
        (response) => {
          let text = "";
          response.on("data", (chunk) => {
            text += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      request.on("error", reject);
      request.end();
    });
  }

  it("answers the vault CLI's preflight, then serves KV v2 paths", async () => {
    const preflight = await server.call("GET", "sys/internal/ui/mounts/secret/team/db");
    expect(preflight.status).toBe(200);
    expect(preflight.body.data).toMatchObject({ path: "secret/", type: "kv", options: { version: "2" } });

    expect(
      (
        await server.call("PUT", "secret/data/team/db", {
          data: { user: "app", password: "one" },
          options: { cas: 0 },
        })
      ).status,
    ).toBe(200);
    // Sent as a JSON merge patch, as the vault CLI sends it.
    const patched = await server.call("PATCH", "secret/data/team/db", { data: { password: "two" } });
    expect(patched.body.data.version).toBe(2);
    const read = await server.call("GET", "secret/data/team/db");
    expect(read.body.data.data).toEqual({ user: "app", password: "two" });
    expect(read.body.data.metadata.version).toBe(2);

    const unpatched = await fetch(`${server.url}/v1/secret/data/team/db`, {
      method: "PATCH",
      headers: { "X-Vault-Token": server.rootToken, "Content-Type": "application/json" },
      body: JSON.stringify({ data: { password: "three" } }),
    });
    expect(unpatched.status).toBe(415);
  });

  it("lists with the LIST method in Vault's keys shape", async () => {
    await server.call("POST", "secret/data/team/cache", { data: { url: "redis://" } });
    await server.call("POST", "secret/data/team/nested/x", { data: { a: "1" } });
    const listed = await list("secret/metadata/team/");
    expect(listed.status).toBe(200);
    expect(listed.body.data?.keys).toEqual(["cache", "db", "nested/"]);
  });

  it("deletes, undeletes and destroys versions; destroyed data leaves the store", async () => {
    const mount = (await server.broker.mounts.list()).find((candidate) => candidate.path === "secret/")!;
    const item = (version: number) =>
      server.broker.store.get({ pk: secretPk(mount.uuid, "team/db"), sk: versionSk(version) });

    expect((await server.call("POST", "secret/delete/team/db", { versions: [1] })).status).toBe(204);
    const deleted = await server.call("GET", "secret/data/team/db?version=1");
    expect(deleted.status).toBe(404);
    expect(deleted.body.data).toMatchObject({ data: null, metadata: { version: 1, destroyed: false } });
    expect((await server.call("POST", "secret/undelete/team/db", { versions: [1] })).status).toBe(204);
    expect((await server.call("GET", "secret/data/team/db?version=1")).body.data.data).toEqual({
      user: "app",
      password: "one",
    });

    expect(await item(1)).toBeDefined();
    expect((await server.call("POST", "secret/destroy/team/db", { versions: "1" })).status).toBe(204);
    expect(await item(1)).toBeUndefined();
    expect((await server.call("POST", "secret/undelete/team/db", { versions: [1] })).status).toBe(204);
    expect((await server.call("GET", "secret/data/team/db?version=1")).body.data.metadata.destroyed).toBe(
      true,
    );

    expect((await server.call("DELETE", "secret/metadata/team/db")).status).toBe(204);
    expect(await item(2)).toBeUndefined();
    expect((await list("secret/metadata/team/")).body.data?.keys).toEqual(["cache", "nested/"]);
  });

  it("refuses what Vault refuses, with its statuses", async () => {
    const cases: [string, string, unknown, number][] = [
      ["POST", "secret/data/bad", { data: "not an object" }, 400],
      ["POST", "secret/data/team/cache", { data: { a: 1 }, options: { cas: 7 } }, 400],
      ["POST", "secret/delete/team/cache", { versions: [] }, 400],
      ["POST", "secret/metadata/bad", { max_versions: "lots" }, 400],
      ["POST", "secret/data/big", { data: { blob: "x".repeat(400 * 1024) } }, 413],
      ["GET", "secret/data/team/cache?version=99", undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const reply = await server.call(method, path, body);
      expect({ path, status: reply.status }).toEqual({ path, status });
      expect(reply.body.errors?.length ?? 0).toBeGreaterThan(0);
    }
    expect((await server.call("GET", "secret/metadata/bad")).status).toBe(404);
    expect((await server.call("GET", "secret/metadata/big")).status).toBe(404);
  });

  it("hashes strings in the audit log and leaves numbers and booleans in clear, as Vault does", async () => {
    expect(
      (await server.call("POST", "secret/data/audited", { data: { user: "app", port: 5432, tls: true } }))
        .status,
    ).toBe(200);
    const written = (await readFile(server.auditLog, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .find((record) => record.type === "request" && record.request.path === "secret/data/audited");
    expect(written.request.data.data).toEqual({
      user: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
      port: 5432,
      tls: true,
    });
  });

  it("serves a KV v1 mount, which the preflight reports as version 1", async () => {
    expect(
      (await server.call("POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } })).status,
    ).toBe(204);
    const preflight = await server.call("GET", "sys/internal/ui/mounts/legacy/app");
    expect(preflight.body.data).toMatchObject({ path: "legacy/", options: { version: "1" } });
    expect((await server.call("POST", "legacy/app", { token: "abc", ttl: "30m" })).status).toBe(204);
    const read = await server.call("GET", "legacy/app");
    expect(read.body).toMatchObject({ data: { token: "abc", ttl: "30m" }, lease_duration: 1800 });
    expect((await list("legacy/")).body.data?.keys).toEqual(["app"]);
    expect((await server.call("DELETE", "legacy/app")).status).toBe(204);
    expect((await server.call("GET", "legacy/app")).status).toBe(404);
  });
});
