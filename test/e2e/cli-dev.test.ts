/**
 * `coffer dev` as a process, the way the README starts it: banner, serving, clean stop.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COFFER_SCRIPT } from "../support/coffer-command.ts";
import { startDevCommand } from "../support/dev-server.ts";
import { freePort } from "../support/moto.ts";
import { runCli } from "./cli-harness.ts";

const bin = COFFER_SCRIPT;

describe("coffer dev (the command)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("prints a banner with the address and root token, serves, and stops cleanly on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "coffer-cli-"));
    dirs.push(dataDir);
    const port = await freePort();
    const dev = await startDevCommand({ dataDir, port });
    const banner = dev.output();
    expect(banner).toContain(`http://127.0.0.1:${port}`);
    const token = banner.match(/root token: (\S+)/)?.[1];
    expect(token).toMatch(/^cof\./);
    expect(banner).toContain("export VAULT_TOKEN=");

    const health = await fetch(`http://127.0.0.1:${port}/v1/sys/health`);
    expect(health.status).toBe(200);
    const write = await fetch(`http://127.0.0.1:${port}/v1/secret/data/app/db`, {
      method: "POST",
      headers: { "X-Vault-Token": token as string },
      body: JSON.stringify({ data: { password: "pw" } }),
    });
    expect(write.status).toBe(200);

    expect(await dev.stop()).toBe(0);
  });

  it("hashes numbers and booleans in audit records with --audit-hash-non-strings", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "coffer-cli-"));
    dirs.push(dataDir);
    const dev = await startDevCommand({ dataDir, args: ["--audit-hash-non-strings"] });
    const write = await fetch(`${dev.url}/v1/secret/data/app/db`, {
      method: "POST",
      headers: { "X-Vault-Token": dev.rootToken },
      body: JSON.stringify({ data: { port: 5432, tls: true } }),
    });
    expect(write.status).toBe(200);
    expect(await dev.stop()).toBe(0);
    const written = (await readFile(join(dataDir, "audit.log"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .find((record) => record.type === "request" && record.request.path === "secret/data/app/db");
    expect(written.request.data.data).toEqual({
      port: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
      tls: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
    });
  });

  it("refuses a port that is not a number", async () => {
    const child = spawn(process.execPath, [bin, "dev", "--port", "eighty"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/port/);
  });

  it("exits 1 for local errors anywhere: an unknown command, a bad port, a missing option", async () => {
    const [unknown, port, devToken, store] = await Promise.all([
      runCli(["nosuch"], { env: {} }),
      runCli(["dev", "--port", "abc"], { env: {} }),
      runCli(["dev", "token", "--namespace", "default"], { env: {} }),
      runCli(["operator", "sweep", "--store", "nope"], { env: {} }),
    ]);
    expect(unknown.code, unknown.stderr).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'nosuch'");
    expect(port.code, port.stderr).toBe(1);
    expect(port.stderr).toContain("expected a port number");
    expect(devToken.code, devToken.stderr).toBe(1);
    expect(devToken.stderr).toContain("--service-account");
    expect(store.code, store.stderr).toBe(1);
    expect(store.stderr).toContain('unknown store "nope"');
  });

  it("exits 1 when the dev server cannot start: the port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const result = await runCli(["dev", "--in-memory", "--port", String(port)], { env: {} });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain("EADDRINUSE");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("dev token checks the address as the client commands do: an invalid one fails as a request would", async () => {
    const result = await runCli(["dev", "token", "--namespace", "a", "--service-account", "b"], {
      env: { COFFER_ADDR: "not a url" },
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('invalid address "not a url" (from COFFER_ADDR)');
  });

  it("keeps the root token and issuer key with mode 0600, and names an unreadable key file", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "coffer-cli-"));
    dirs.push(dataDir);
    const dev = await startDevCommand({ dataDir });
    expect(await dev.stop()).toBe(0);
    for (const name of ["root-token", "dev-issuer.jwk"]) {
      expect((await stat(join(dataDir, name))).mode & 0o777, name).toBe(0o600);
    }

    const keyFile = join(dataDir, "dev-issuer.jwk");
    await writeFile(keyFile, '{"kty":"RSA","d":"private-part');
    const result = await runCli(["dev", "--port", "0", "--data-dir", dataDir], { env: {} });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`cannot use the development issuer's key in ${keyFile}`);
    expect(result.stderr).toContain("delete the file");
    expect(result.stderr).not.toContain("private-part");
  });
});
