/**
 * `coffer operator init --output-file` and `coffer operator generate-root` as an operator
 * runs them: the root token in a new file of mode 0600 and never on the terminal, a path
 * that cannot be written failing before anything is made, and generate-root refused while
 * the first root token is valid, then audited in the data directory's audit log.
 */
import { statSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./cli-harness.ts";

let home: string;
let dataDir: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "coffer-operator-root-"));
  dataDir = join(home, "data");
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const operator = (...args: string[]) =>
  runCli(["operator", ...args, "--data-dir", dataDir], { env: { HOME: home } });

async function tokenFile(path: string): Promise<{ root_token: string; root_token_accessor: string }> {
  expect(statSync(path).mode & 0o777).toBe(0o600);
  return JSON.parse(await readFile(path, "utf8"));
}

describe("operator init --output-file", () => {
  it("writes the root token to a new file of mode 0600, and not to the terminal", async () => {
    const file = join(home, "root.json");
    const init = await operator("init", "--output-file", file);
    expect(init.code, init.stderr).toBe(0);
    const { root_token, root_token_accessor } = await tokenFile(file);
    expect(root_token).toMatch(/^cof\./);
    expect(init.stdout).not.toContain(root_token);
    expect(init.stdout).toContain(`Root token written to ${file} (mode 0600).`);
    expect(init.stdout).toContain(root_token_accessor);
  });

  it("refuses an existing file before initializing, leaving it and the store untouched", async () => {
    const file = join(home, "taken.json");
    writeFileSync(file, "keep me\n");
    const refused = await operator("init", "--output-file", file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists/);
    expect(await readFile(file, "utf8")).toBe("keep me\n");
    // Nothing was made: init still works, and prints the token.
    const init = await operator("init");
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Root token: cof\.\S+$/m);
  });
});

describe("operator generate-root", () => {
  it("is refused while the first root token is valid, and with --force writes another, audited", async () => {
    const first = join(home, "first.json");
    expect((await operator("init", "--output-file", first)).code).toBe(0);
    const { root_token_accessor: firstAccessor } = await tokenFile(first);

    const refused = await operator("generate-root");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`a root token is still valid (accessor ${firstAccessor})`);
    expect(refused.stdout).toBe("");

    const second = join(home, "second.json");
    const forced = await operator("generate-root", "--force", "--output-file", second);
    expect(forced.code, forced.stderr).toBe(0);
    const { root_token } = await tokenFile(second);
    expect(forced.stderr).toContain(`root token ${firstAccessor} (init,`);

    const audit = (await readFile(join(dataDir, "audit.log"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((record) => record.request.path === "sys/generate-root");
    expect(audit.map((record) => [record.type, record.response?.status])).toEqual([
      ["request", undefined],
      ["response", 400],
      ["request", undefined],
      ["response", 200],
    ]);
    expect(JSON.stringify(audit)).not.toContain(root_token);
  });

  it("refuses a store that was never initialized", async () => {
    const refused = await operator("generate-root");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not initialized/);
  });
});
