/**
 * `coffer policy` and `coffer token` against a running `coffer dev`: writing a policy,
 * a token that carries it, and what that token may then do.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";
import { api, createToken, runCli } from "./cli-harness.ts";

const ROOT = "cli-policy-root";
const POLICY = 'path "secret/data/team/*" {\n  capabilities = ["read", "create", "update"]\n}\n';

describe("coffer policy and coffer token", () => {
  const server = useDevServer({ rootToken: ROOT });
  const coffer = (args: string[], extra: Record<string, string> = {}, stdin?: string) =>
    runCli(args, {
      env: { COFFER_ADDR: server.url, COFFER_TOKEN: ROOT, HOME: server.home, ...extra },
      stdin,
    });

  beforeAll(async () => {
    await api(server.url, ROOT, "PUT", "sys/policies/acl/team", { policy: POLICY });
  });

  it("writes a policy from a file and from standard input, reads, lists and deletes it", async () => {
    await writeFile(join(server.home, "team.hcl"), POLICY);
    const write = await coffer(["policy", "write", "team", join(server.home, "team.hcl")]);
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
    await writeFile(join(server.home, "bad.hcl"), 'path "secret/*" { capabilities = ["fly"] }\n');
    const [invalid, missingFile, empty, noName] = await Promise.all([
      coffer(["policy", "write", "bad", join(server.home, "bad.hcl")]),
      coffer(["policy", "write", "bad", join(server.home, "absent.hcl")]),
      coffer(["policy", "write", "bad", "-"], {}, "  \n"),
      coffer(["policy", "read"]),
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^Error: .*fly.* \(HTTP 400 on PUT sys\/policies\/acl\/bad\)\n$/);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toBe(`Error: cannot read ${join(server.home, "absent.hcl")}: no such file\n`);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe("Error: the policy in standard input is empty\n");
    expect(noName.code).toBe(1);
  });

  it("looks up, renews and revokes tokens: its own, another, by accessor", async () => {
    const team = await createToken(server.url, ROOT, ["team"]);
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

    const second = await createToken(server.url, ROOT, ["team"]);
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

  it("creates tokens with the vault CLI's flags, and the new token works", async () => {
    const create = await coffer(["token", "create", "-policy=team", "-ttl=30m", "-metadata=owner=ci"]);
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout).toMatch(/^token\s+cof\.\S+$/m);
    expect(create.stdout).toMatch(/^token_duration\s+(29m59s|30m)$/m);
    expect(create.stdout).toMatch(/^token_policies\s+\[default team\]$/m);
    expect(create.stdout).toMatch(/^token_meta_owner\s+ci$/m);

    const [fieldOnly, bare] = await Promise.all([
      coffer(["token", "create", "-policy=team", "-renewable=false", "-display-name=ci job", "-field=token"]),
      coffer(["token", "create", "-policy=team", "-no-default-policy", "-format=json"]),
    ]);
    expect(fieldOnly.stdout).toMatch(/^cof\.\S+$/);
    const lookup = JSON.parse(
      (await coffer(["token", "lookup", "-format=json"], { COFFER_TOKEN: fieldOnly.stdout })).stdout,
    );
    expect(lookup.data).toMatchObject({
      policies: ["default", "team"],
      renewable: false,
      display_name: "token-ci-job",
    });
    expect(JSON.parse(bare.stdout).auth.policies).toEqual(["team"]);

    // What the server refuses is remote; a malformed flag is local.
    const team = await createToken(server.url, ROOT, ["team"]);
    const [orphan, escalate, useLimit, badTtl] = await Promise.all([
      coffer(["token", "create", "-orphan"], { COFFER_TOKEN: team.token }),
      coffer(["token", "create", "-policy=admin"], { COFFER_TOKEN: team.token }),
      coffer(["token", "create", "-use-limit=3"]),
      coffer(["token", "create", "-ttl=forever"]),
    ]);
    expect(orphan.code).toBe(2);
    expect(escalate.code).toBe(2);
    expect(useLimit.code, useLimit.stderr).toBe(0);
    expect(useLimit.stdout).toMatch(/^token\s+cof\.\S+$/m);
    expect(badTtl.code).toBe(1);
  });

  it("token capabilities: the caller's own through sys/capabilities-self, another's through sys/capabilities", async () => {
    const team = await createToken(server.url, ROOT, ["team"]);
    const [own, json, root, other, missing] = await Promise.all([
      coffer(["token", "capabilities", "secret/data/team/app"], { COFFER_TOKEN: team.token }),
      coffer(["token", "capabilities", "-format=json", "secret/data/other"], { COFFER_TOKEN: team.token }),
      coffer(["token", "capabilities", "secret/data/team/app"]),
      coffer(["token", "capabilities", "-", "secret/data/team/app"], {}, team.token),
      coffer(["token", "capabilities"]),
    ]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toBe("create, read, update\n");
    expect(JSON.parse(json.stdout)).toEqual(["deny"]);
    expect(root.stdout).toBe("root\n");
    // Another token's capabilities are asked at sys/capabilities, as the vault CLI asks.
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toBe("create, read, update\n");
    expect(missing.code).toBe(1);
  });

  it("policy fmt rewrites an HCL policy in the formatter's layout, keeping comments", async () => {
    const file = join(server.home, "fmt.hcl");
    await writeFile(
      file,
      [
        "# What the team may read",
        'path "secret/data/team/*" {',
        'capabilities = ["read","list"]   # enough for the agent',
        '    policy="read"',
        "}",
        'path "secret/metadata/team/*" {',
        "  capabilities = [",
        '    "list",',
        "    # and read",
        '    "read"',
        "  ]",
        "}",
      ].join("\n"),
    );
    const formatted = [
      "# What the team may read",
      'path "secret/data/team/*" {',
      '  capabilities = ["read", "list"] # enough for the agent',
      '  policy       = "read"',
      "}",
      "",
      'path "secret/metadata/team/*" {',
      "  capabilities = [",
      '    "list",',
      "    # and read",
      '    "read",',
      "  ]",
      "}",
      "",
    ].join("\n");
    const fmt = await coffer(["policy", "fmt", file]);
    expect(fmt.code, fmt.stderr).toBe(0);
    expect(fmt.stdout).toBe(`Success! Formatted policy: ${file}\n`);
    expect(await readFile(file, "utf8")).toBe(formatted);
    // Formatting is stable, and the server takes the result.
    await coffer(["policy", "fmt", file]);
    expect(await readFile(file, "utf8")).toBe(formatted);
    expect((await coffer(["policy", "write", "fmt", file])).code).toBe(0);

    const invalid = join(server.home, "invalid.hcl");
    const json = join(server.home, "policy.json");
    await writeFile(invalid, 'path "secret/*" { capabilities = ["fly"] }\n');
    await writeFile(json, '{"path": {"secret/*": {"capabilities": ["read"]}}}');
    const [bad, notHcl, absent] = await Promise.all([
      coffer(["policy", "fmt", invalid]),
      coffer(["policy", "fmt", json]),
      coffer(["policy", "fmt", join(server.home, "absent.hcl")]),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`Error: ${invalid}: path "secret/*": unknown capability "fly"`);
    expect(await readFile(invalid, "utf8")).toBe('path "secret/*" { capabilities = ["fly"] }\n');
    expect(notHcl.code).toBe(1);
    expect(notHcl.stderr).toBe(`Error: ${json} is a JSON policy: policy fmt formats HCL\n`);
    expect(absent.code).toBe(1);
  });
});
