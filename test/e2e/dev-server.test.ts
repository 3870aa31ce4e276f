/**
 * The foundation as a user meets it: `coffer dev` over real HTTP, Vault's shapes, bad
 * inputs refused with nothing written, and no plaintext secret on disk or in the audit log.
 */
import { readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";

const SECRET = "correct-horse-battery-staple-4f9a";
const ROOT = "e2e-root-token";

/** A raw HTTP request: fetch would normalize "..", which is exactly what we need to send. */
function raw(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname,
        port,
        method,
        path,
        headers: {
          ...(options.token ? { "X-Vault-Token": options.token } : {}),
          ...(options.body !== undefined ? { "Content-Length": Buffer.byteLength(options.body) } : {}),
        },
      },
      (res) => {
        let body = "";
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).map((name) => join(dir, name));
}

describe("coffer dev over HTTP", () => {
  const server = useDevServer({ inMemory: false, rootToken: ROOT });
  const api = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${server.url}/v1/${path}`, {
      ...init,
      headers: { ...(init.token ? { "X-Vault-Token": init.token } : {}), ...init.headers },
    });

  it("answers sys/health and sys/seal-status in Vault's shapes without a token", async () => {
    const health = await api("sys/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ initialized: true, sealed: false, standby: false });
    const seal = await api("sys/seal-status");
    expect(await seal.json()).toMatchObject({ initialized: true, sealed: false, type: "shamir" });
  });

  it("writes and reads a secret in Vault's KV v2 shape", async () => {
    const write = await api("secret/data/app/db", {
      method: "POST",
      token: ROOT,
      body: JSON.stringify({ data: { password: SECRET, user: "app" } }),
    });
    expect(write.status).toBe(200);
    const written = await write.json();
    expect(written.data).toMatchObject({ version: 1, destroyed: false, deletion_time: "" });

    const read = await api("secret/data/app/db", { token: ROOT });
    expect(read.status).toBe(200);
    const body = await read.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        "auth",
        "data",
        "lease_duration",
        "lease_id",
        "mount_type",
        "renewable",
        "request_id",
        "warnings",
        "wrap_info",
      ].sort(),
    );
    expect(body.data.data).toEqual({ password: SECRET, user: "app" });
    expect(body.data.metadata.version).toBe(1);
    expect(read.headers.get("cache-control")).toBe("no-store");
  });

  it("accepts Authorization: Bearer as well as X-Vault-Token", async () => {
    const read = await api("secret/data/app/db", { headers: { Authorization: `Bearer ${ROOT}` } });
    expect(read.status).toBe(200);
  });

  it("refuses a wrong or missing token with 403 permission denied", async () => {
    for (const token of ["wrong-token", undefined]) {
      const read = await api("secret/data/app/db", { token });
      expect(read.status).toBe(403);
      expect(await read.json()).toEqual({ errors: ["permission denied"] });
    }
  });

  it("lists with the LIST method and with GET ?list=true", async () => {
    const viaList = await raw(server.url, "LIST", "/v1/secret/metadata/", { token: ROOT });
    expect(viaList.status).toBe(200);
    expect(JSON.parse(viaList.body).data.keys).toEqual(["app/"]);
    const dotted = await raw(server.url, "LIST", "/v1/secret/metadata/app/../../sys/", { token: ROOT });
    expect(dotted.status).toBe(400);
    expect(JSON.parse(dotted.body).errors[0]).toMatch(/"\.\."/);
    const viaGet = await api("secret/metadata/app/?list=true", { token: ROOT });
    expect((await viaGet.json()).data.keys).toEqual(["db"]);
  });

  it("refuses bad input with a clear 4xx and writes nothing", async () => {
    const cases: { method: string; path: string; body?: string; status: number; error: RegExp }[] = [
      {
        method: "POST",
        path: "/v1/secret/data/bad/json",
        body: `{"data": {"password": "${SECRET}`,
        status: 400,
        error: /not valid JSON/,
      },
      { method: "POST", path: "/v1/secret/data/bad/array", body: "[1,2]", status: 400, error: /JSON object/ },
      {
        method: "POST",
        path: "/v1/secret/data/bad/nondata",
        body: '{"data": "just a string"}',
        status: 400,
        error: /"data"/,
      },
      { method: "POST", path: "/v1/secret/data/bad/nodata", body: "{}", status: 400, error: /no data/ },
      {
        method: "POST",
        path: "/v1/secret/data/bad/huge",
        body: JSON.stringify({ data: { blob: "x".repeat(1024 * 1024 + 10) } }),
        status: 413,
        error: /exceeds the limit/,
      },
      {
        method: "POST",
        path: "/v1/secret/data/../../sys/mounts/x",
        body: "{}",
        status: 400,
        error: /"\.\."/,
      },
      {
        method: "POST",
        path: "/v1/secret/data/a/%2e%2e/b",
        body: '{"data":{}}',
        status: 400,
        error: /"\.\."/,
      },
      {
        method: "POST",
        path: "/v1/secret/data/ctl%00char",
        body: '{"data":{}}',
        status: 400,
        error: /control characters/,
      },
      {
        method: "POST",
        path: "/v1/secret/data/ctl%1bchar",
        body: '{"data":{}}',
        status: 400,
        error: /control characters/,
      },
      {
        method: "POST",
        path: "/v1/secret/data/bad%zzpct",
        body: '{"data":{}}',
        status: 400,
        error: /percent-encoding/,
      },
      { method: "GET", path: "/v1/nosuchmount/data/x", status: 404, error: /no handler for route/ },
      {
        method: "POST",
        path: "/v1/secret/unknownpath/x",
        body: '{"data":{}}',
        status: 404,
        error: /unsupported path/,
      },
    ];
    for (const testCase of cases) {
      const response = await raw(server.url, testCase.method, testCase.path, {
        token: ROOT,
        body: testCase.body,
      });
      expect({ path: testCase.path, status: response.status }).toEqual({
        path: testCase.path,
        status: testCase.status,
      });
      const errors: string[] = JSON.parse(response.body).errors;
      expect(errors.join(" ")).toMatch(testCase.error);
      expect(errors.join(" ")).not.toContain(SECRET);
    }
    const keys = await api("secret/metadata/?list=true", { token: ROOT });
    expect((await keys.json()).data.keys).toEqual(["app/"]);
  });

  it("keeps no plaintext secret in the database files or the audit log", async () => {
    const files = filesIn(server.home);
    expect(files.some((file) => file.endsWith("coffer.db"))).toBe(true);
    expect(files.some((file) => file.endsWith("audit.log"))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      expect({ file, hasSecret: bytes.includes(SECRET) }).toEqual({ file, hasSecret: false });
      expect({ file, hasToken: bytes.includes(ROOT) && !file.endsWith("root-token") }).toEqual({
        file,
        hasToken: false,
      });
    }
  });

  it("audits every request, allowed or denied: the request before the handler, the response after", async () => {
    const lines = readFileSync(server.auditLog, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const responses = lines.filter((line) => line.type === "response");
    // Refused before any handler ran: the response record only, and none of the data sent.
    const denied = responses.find((line) => line.response.status === 403);
    expect(denied).toMatchObject({
      request: { path: "secret/data/app/db", operation: "read" },
      error: expect.any(String),
    });
    expect(denied.request.data).toBeUndefined();
    expect(lines.filter((line) => line.request.id === denied.request.id)).toHaveLength(1);

    const write = lines.find(
      (line) =>
        line.type === "request" &&
        line.request.path === "secret/data/app/db" &&
        line.request.operation === "create",
    );
    expect(write.request.data.data.password).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(write.auth.accessor).toMatch(/^hmac-sha256:/);
    const written = lines.filter((line) => line.request.id === write.request.id);
    expect(written.map((line) => line.type)).toEqual(["request", "response"]);
    expect(written[1]).toMatchObject({ response: { status: 200 }, auth: { accessor: write.auth.accessor } });

    const read = responses.find(
      (line) =>
        line.request.operation === "read" &&
        line.response.status === 200 &&
        line.request.path === "secret/data/app/db",
    );
    expect(read.response.data.data.data.password).toBe(write.request.data.data.password);
    const invalid = responses.filter((line) => line.response.status === 400);
    expect(invalid.length).toBeGreaterThanOrEqual(5);
  });

  it("keeps data across a restart", async () => {
    await server.restart();
    expect(server.rootToken).toBe(ROOT);
    const read = await api("secret/data/app/db", { token: ROOT });
    expect((await read.json()).data.data.password).toBe(SECRET);
  });

  it("manages mounts through sys/mounts", async () => {
    const enable = await api("sys/mounts/team-kv", {
      method: "POST",
      token: ROOT,
      body: JSON.stringify({ type: "kv-v2", description: "team secrets" }),
    });
    expect(enable.status).toBe(204);
    const again = await api("sys/mounts/team-kv", {
      method: "POST",
      token: ROOT,
      body: JSON.stringify({ type: "kv-v2" }),
    });
    expect(again.status).toBe(400);
    expect((await again.json()).errors[0]).toMatch(/already in use/);
    const nested = await api("sys/mounts/team-kv/inner", {
      method: "POST",
      token: ROOT,
      body: JSON.stringify({ type: "kv-v2" }),
    });
    expect(nested.status).toBe(400);
    const unknownType = await api("sys/mounts/other", {
      method: "POST",
      token: ROOT,
      body: JSON.stringify({ type: "nope" }),
    });
    expect(unknownType.status).toBe(400);
    const ttls = await api("sys/mounts/other", {
      method: "POST",
      token: ROOT,
      body: JSON.stringify({ type: "kv-v2", config: { default_lease_ttl: "2h", max_lease_ttl: "1h" } }),
    });
    expect(ttls.status).toBe(400);
    expect((await ttls.json()).errors).toEqual(["given default lease TTL greater than given max lease TTL"]);
    expect(Object.keys((await (await api("sys/mounts", { token: ROOT })).json()).data)).not.toContain(
      "other/",
    );

    await api("team-kv/data/x", { method: "POST", token: ROOT, body: JSON.stringify({ data: { a: "1" } }) });
    const mounts = await (await api("sys/mounts", { token: ROOT })).json();
    expect(mounts.data["team-kv/"]).toMatchObject({
      type: "kv",
      options: { version: "2" },
      description: "team secrets",
    });

    expect((await api("sys/mounts/team-kv", { method: "DELETE", token: ROOT })).status).toBe(204);
    expect((await api("team-kv/data/x", { token: ROOT })).status).toBe(404);
    // Re-enabling at the same path starts empty: the old data was purged.
    await api("sys/mounts/team-kv", { method: "POST", token: ROOT, body: JSON.stringify({ type: "kv-v2" }) });
    expect((await api("team-kv/data/x", { token: ROOT })).status).toBe(404);
  });
});
