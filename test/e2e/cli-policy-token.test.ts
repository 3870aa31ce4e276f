/**
 * `coffer policy` and `coffer token` against a running `coffer dev`: writing a policy,
 * a token that carries it, and what that token may then do.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../../cli/dev.ts";
import { api, runCli } from "./cli-harness.ts";

const ROOT = "cli-policy-root";
const POLICY = 'path "secret/data/team/*" {\n  capabilities = ["read", "create", "update"]\n}\n';

describe("coffer policy and coffer token", () => {
  let server: DevServer;
  let home: string;
  const coffer = (args: string[], extra: Record<string, string> = {}, stdin?: string) =>
    runCli(args, { env: { COFFER_ADDR: server.url, COFFER_TOKEN: ROOT, HOME: home, ...extra }, stdin });

  async function createToken(policies: string[], ttl = "1h"): Promise<{ token: string; accessor: string }> {
    const response = await api(server.url, ROOT, "POST", "auth/token/create", { policies, ttl });
    const auth = response?.auth as { client_token: string; accessor: string };
    return { token: auth.client_token, accessor: auth.accessor };
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "coffer-cli-policy-"));
    server = await startDevServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: home,
      inMemory: true,
      rootToken: ROOT,
    });
    await api(server.url, ROOT, "PUT", "sys/policies/acl/team", { policy: POLICY });
  });

  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it("writes a policy from a file and from standard input, reads, lists and deletes it", async () => {
    await writeFile(join(home, "team.hcl"), POLICY);
    const write = await coffer(["policy", "write", "team", join(home, "team.hcl")]);
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toBe("Success! Uploaded policy: team\n");
    const fromStdin = await coffer(
      ["policy", "write", "scratch", "-"],
      {},
      '{"path": {"x/*": {"capabilities": ["read"]}}}',
    );
    expect(fromStdin.code, fromStdin.stderr).toBe(0);

    const [read, list, json] = await Promise.all([
      coffer(["policy", "read", "team"]),
      coffer(["policy", "list"]),
      coffer(["policy", "list", "-format=json"]),
    ]);
    expect(read.stdout).toBe(POLICY);
    expect(list.stdout.split("\n")).toEqual(expect.arrayContaining(["default", "root", "scratch", "team"]));
    expect(JSON.parse(json.stdout)).toEqual(expect.arrayContaining(["scratch", "team"]));

    expect((await coffer(["policy", "delete", "scratch"])).stdout).toBe("Success! Deleted policy: scratch\n");
    const gone = await coffer(["policy", "read", "scratch"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^Error: /);
  });

  it("shows the server's reason for an invalid policy, and usage errors with 1", async () => {
    await writeFile(join(home, "bad.hcl"), 'path "secret/*" { capabilities = ["fly"] }\n');
    const [invalid, missingFile, empty, noName] = await Promise.all([
      coffer(["policy", "write", "bad", join(home, "bad.hcl")]),
      coffer(["policy", "write", "bad", join(home, "absent.hcl")]),
      coffer(["policy", "write", "bad", "-"], {}, "  \n"),
      coffer(["policy", "read"]),
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^Error: .*fly.* \(HTTP 400 on PUT sys\/policies\/acl\/bad\)\n$/);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toBe(`Error: cannot read ${join(home, "absent.hcl")}: no such file\n`);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe("Error: the policy in standard input is empty\n");
    expect(noName.code).toBe(1);
  });

  it("looks up, renews and revokes tokens: its own, another, by accessor", async () => {
    const team = await createToken(["team"]);
    const [self, other, byAccessor] = await Promise.all([
      coffer(["token", "lookup"], { COFFER_TOKEN: team.token }),
      coffer(["token", "lookup", "-format=json", "-"], {}, `${team.token}\n`),
      coffer(["token", "lookup", "--accessor", "-field=policies", team.accessor]),
    ]);
    expect(self.code, self.stderr).toBe(0);
    expect(self.stdout).toMatch(/policies\s+\[default team\]/);
    expect(self.stdout).not.toContain(team.token);
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout).data).toMatchObject({ accessor: team.accessor });
    expect(JSON.parse(byAccessor.stdout)).toEqual(["default", "team"]);

    const renew = await coffer(["token", "renew", "--increment", "30m"], { COFFER_TOKEN: team.token });
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stdout).toMatch(/token_duration\s+(29m59s|30m)\n/);
    expect(renew.stdout).not.toContain(team.token);

    // What the policy grants, and what it does not.
    const allowed = await coffer(["kv", "put", "secret/team/app", "a=1"], { COFFER_TOKEN: team.token });
    expect(allowed.code, allowed.stderr).toBe(0);
    const denied = await coffer(["kv", "put", "secret/other/app", "a=1"], { COFFER_TOKEN: team.token });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain("Error: permission denied (HTTP 403 on POST secret/data/other/app)");
    expect(denied.stderr).toContain("Hint: the token from COFFER_TOKEN was refused");

    const revoke = await coffer(["token", "revoke", "--accessor", team.accessor]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const afterRevoke = await coffer(["token", "lookup"], { COFFER_TOKEN: team.token });
    expect(afterRevoke.code).toBe(2);

    const second = await createToken(["team"]);
    expect((await coffer(["token", "revoke", "-"], {}, second.token)).code).toBe(0);
    expect((await coffer(["token", "lookup"], { COFFER_TOKEN: second.token })).code).toBe(2);
  });

  it("token usage errors exit 1", async () => {
    const [neither, both, noAccessor] = await Promise.all([
      coffer(["token", "revoke"]),
      coffer(["token", "revoke", "--self", "x"]),
      coffer(["token", "lookup", "--accessor"]),
    ]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toBe("Error: name the token to revoke, or pass --self to revoke your own\n");
    expect(both.code).toBe(1);
    expect(noAccessor.code).toBe(1);
    expect(noAccessor.stderr).toBe("Error: missing the accessor: pass it as an argument\n");
  });
});
