/**
 * `coffer dev` as a process, the way the README starts it: banner, serving, clean stop.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/moto.ts";

const bin = new URL("../../cli/bin.mjs", import.meta.url).pathname;

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${output}`)), timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

describe("coffer dev (the command)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("prints a banner with the address and root token, serves, and stops cleanly on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "coffer-cli-"));
    dirs.push(dataDir);
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "dev", "--port", String(port), "--data-dir", dataDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const banner = await waitForOutput(child, /Press Ctrl-C/);
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

    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
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
});
