/**
 * `coffer read|write|list|delete|patch` against a running `coffer dev`: any API path, the
 * vault CLI's ways of passing data, its output shapes (table, JSON, YAML, one field), where
 * the token comes from, and the exit code of each kind of error: 1 for a local one (nothing
 * sent), 2 for a remote one.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { useDevServer } from "../support/dev-server.ts";
import { freePort } from "../support/moto.ts";
import { api, createToken, runCli } from "./cli-harness.ts";

const ROOT = "cli-logical-root";

describe("coffer read, write, list, delete and patch", () => {
  const server = useDevServer({ rootToken: ROOT });
  let readOnly: string;
  const coffer = (args: string[], extra: Record<string, string | undefined> = {}, stdin?: string) =>
    runCli(args, { env: { VAULT_ADDR: server.url, VAULT_TOKEN: ROOT, HOME: server.home, ...extra }, stdin });
  const audited = async () => (await readFile(server.auditLog, "utf8")).split("\n").filter(Boolean).length;

  beforeAll(async () => {
    await api(server.url, ROOT, "POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } });
    readOnly = (await createToken(server.url, ROOT, ["default"])).token;
  });

  it("writes and reads a KV v2 secret at its API path, as a table, JSON, YAML and one field", async () => {
    const write = await coffer(["write", "secret/data/app/db", "-"], {}, '{"data":{"password":"s3cr3t"}}');
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toMatch(/^Key\s+Value\n---\s+-----\n/);
    expect(write.stdout).toMatch(/^version\s+1$/m);

    const [table, json, yaml, field] = await Promise.all([
      coffer(["read", "secret/data/app/db"]),
      coffer(["read", "-format=json", "secret/data/app/db"]),
      coffer(["read", "--format", "yaml", "secret/data/app/db"]),
      coffer(["read", "-field=data", "secret/data/app/db"]),
    ]);
    expect(table.stdout).toMatch(/^data\s+\{"password":"s3cr3t"\}$/m);
    expect(JSON.parse(json.stdout)).toMatchObject({ data: { data: { password: "s3cr3t" } } });
    expect(parseYaml(yaml.stdout)).toMatchObject({ data: { data: { password: "s3cr3t" } } });
    expect(field.stdout).toBe('{"password":"s3cr3t"}');
  });

  it("takes key=value, repeated keys as a list, key=@file, key=\\@text, key=-, @file.json and -", async () => {
    await writeFile(join(server.home, "namespace.txt"), "shop");
    const role = await coffer(
      [
        "write",
        "auth/kubernetes/role/app",
        "bound_service_account_names=app",
        "bound_service_account_names=worker",
        `bound_service_account_namespaces=@${join(server.home, "namespace.txt")}`,
        "token_policies=-",
      ],
      {},
      "app\n",
    );
    expect(role.code, role.stderr).toBe(0);
    expect(role.stdout).toBe("Success! Data written to: auth/kubernetes/role/app\n");
    // The server's warnings reach stderr, as the vault CLI prints them.
    expect(role.stderr).toContain("* This role does not specify an audience");
    const read = JSON.parse((await coffer(["read", "-format=json", "auth/kubernetes/role/app"])).stdout);
    expect(read.data).toMatchObject({
      bound_service_account_names: ["app", "worker"],
      bound_service_account_namespaces: ["shop"],
      token_policies: ["app"],
    });

    await writeFile(join(server.home, "body.json"), '{"from": "file", "n": 1}');
    const [pairs, file, stdin] = await Promise.all([
      coffer(["write", "legacy/pairs", "@odd=1", "lit=\\@at"]),
      coffer(["write", "legacy/file", `@${join(server.home, "body.json")}`]),
      coffer(["write", "legacy/stdin", "-"], {}, '{"from": "stdin"}'),
    ]);
    for (const result of [pairs, file, stdin]) expect(result.code, result.stderr).toBe(0);
    const values = await Promise.all(
      ["pairs", "file", "stdin"].map(
        async (name) => JSON.parse((await coffer(["read", "-format=json", `legacy/${name}`])).stdout).data,
      ),
    );
    expect(values).toEqual([{ "@odd": "1", lit: "@at" }, { from: "file", n: 1 }, { from: "stdin" }]);
  });

  it("lists keys, patches, deletes, and -force writes without data", async () => {
    await api(server.url, ROOT, "POST", "secret/data/team/cfg", { data: { a: "1" } });
    const [table, json] = await Promise.all([
      coffer(["list", "secret/metadata"]),
      coffer(["list", "-format=json", "secret/metadata/team/"]),
    ]);
    expect(table.stdout).toMatch(/^Keys\n----\n(.*\n)*team\/\n/);
    expect(JSON.parse(json.stdout)).toEqual(["cfg"]);

    const patch = await coffer(["patch", "secret/data/team/cfg", "-"], {}, '{"data":{"b":"2"}}');
    expect(patch.code, patch.stderr).toBe(0);
    expect(
      JSON.parse((await coffer(["read", "-format=json", "secret/data/team/cfg"])).stdout).data.data,
    ).toEqual({
      a: "1",
      b: "2",
    });

    const forced = await coffer(["write", "-f", "transit/keys/cli-orders"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await coffer(["read", "-field=type", "transit/keys/cli-orders"])).stdout).toBe("aes256-gcm96");

    const deleted = await coffer(["delete", "secret/metadata/team/cfg"]);
    expect(deleted.stdout).toBe("Success! Data deleted (if it existed) at: secret/metadata/team/cfg\n");
    const gone = await coffer(["read", "secret/data/team/cfg"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe("Error: no value found at secret/data/team/cfg\n");
    const empty = await coffer(["list", "-format=json", "secret/metadata/team"]);
    expect(empty.code).toBe(2);
    expect(empty.stdout).toBe("{}\n");
    expect(empty.stderr).toBe("Error: no entries found at secret/metadata/team/\n");
  });

  it("local errors exit 1 and send nothing", async () => {
    const before = await audited();
    const cases: [string[], string][] = [
      [["write", "legacy/x"], "Error: no data given: pass key=value pairs, or -force to send none"],
      [
        ["write", "legacy/x", "novalue"],
        'Error: expected key=value, key=@file, key=- or @file.json, got "novalue"',
      ],
      [["write", "legacy/x", "a=@/nonexistent/file"], "Error: cannot read /nonexistent/file: no such file"],
      [
        ["write", "legacy/x", "@/nonexistent/body.json"],
        "Error: cannot read /nonexistent/body.json: no such file",
      ],
      [["write", "legacy/x", "-"], "Error: standard input is not valid JSON"],
      [["read", "-format=xml", "legacy/x"], 'Error: unknown format "xml": use table, json or yaml'],
      [["read"], "error: missing required argument 'path'"],
      [["list", "legacy", "extra"], "error: too many arguments for 'list'"],
      [["read", "--frob", "legacy/x"], "error: unknown option '--frob'"],
    ];
    const results = await Promise.all(cases.map(([args]) => coffer(args, {}, "not json")));
    for (const [index, [args, message]] of cases.entries()) {
      expect(results[index]?.code, args.join(" ")).toBe(1);
      expect(results[index]?.stderr, args.join(" ")).toContain(message);
      expect(results[index]?.stdout, args.join(" ")).toBe("");
    }
    expect(await audited()).toBe(before);

    // A field the answer lacks is local too: the request was answered.
    const field = await coffer(["read", "-field=nope", "secret/data/app/db"]);
    expect(field.code).toBe(1);
    expect(field.stderr).toBe('Error: field "nope" is not present in the response\n');
  });

  it("remote errors exit 2: refused, denied, unreachable, a wrong address", async () => {
    const closed = await freePort();
    const [invalid, denied, unreachable, v1] = await Promise.all([
      coffer(["write", "sys/policies/acl/bad", "policy=path"]),
      coffer(["read", "secret/data/app/db"], { VAULT_TOKEN: readOnly }),
      coffer(["read", "secret/data/app/db"], { VAULT_ADDR: `http://127.0.0.1:${closed}` }),
      coffer(["read", "secret/data/app/db"], { VAULT_ADDR: `${server.url}/v1` }),
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(
      /^Error: failed to parse policy.* \(HTTP 400 on PUT sys\/policies\/acl\/bad\)\n$/,
    );
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain("Error: permission denied (HTTP 403 on GET secret/data/app/db)");
    expect(denied.stderr).toContain("Hint: the token from VAULT_TOKEN was refused");
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(`cannot reach Coffer at http://127.0.0.1:${closed}`);
    expect(v1.code).toBe(2);
    expect(v1.stderr).toContain(
      `Hint: the address ${server.url}/v1 (from VAULT_ADDR) ends in /v1; set it without: ${server.url}\n`,
    );
  });

  it("finds the token in VAULT_TOKEN, then ~/.vault-token, then ~/.coffer-token", async () => {
    const tokenHome = join(server.home, "token-server.home");
    await mkdir(tokenHome, { recursive: true });
    await api(server.url, ROOT, "POST", "secret/data/app/db", { data: { password: "s3cr3t" } });
    const asHome = (extra: Record<string, string | undefined> = {}) =>
      coffer(["kv", "get", "-field=password", "secret/app/db"], {
        HOME: tokenHome,
        VAULT_TOKEN: undefined,
        ...extra,
      });

    await writeFile(join(tokenHome, ".coffer-token"), `${ROOT}\n`);
    const fromFile = await asHome();
    expect(fromFile.stdout, fromFile.stderr).toBe("s3cr3t");

    // What `vault login` wrote comes first: here a token that may not read the secret.
    await writeFile(join(tokenHome, ".vault-token"), readOnly);
    const vaultFirst = await asHome();
    expect(vaultFirst.code).toBe(2);
    expect(vaultFirst.stderr).toContain(`the token from ${join(tokenHome, ".vault-token")} was refused`);

    // The environment comes before both.
    expect((await asHome({ VAULT_TOKEN: ROOT })).stdout).toBe("s3cr3t");

    // A login that stores a token says when ~/.vault-token will be used instead.
    const login = await coffer(["login", "token"], { HOME: tokenHome, VAULT_TOKEN: undefined }, ROOT);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(
      `Warning: ${join(tokenHome, ".vault-token")} takes precedence over the stored token.`,
    );
  });
});
