/**
 * `coffer kv` against a running `coffer dev`: every subcommand's happy path, the three
 * output styles (table, JSON, one field), the ways to pass data, and the mistakes a person
 * makes most (a missing argument, a wrong version list, a stale check-and-set, reading
 * what was deleted) answered with a readable message and the documented exit code.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";
import { api, runCli } from "./cli-harness.ts";

const ROOT = "cli-kv-root";

describe("coffer kv", () => {
  const server = useDevServer({ rootToken: ROOT });
  const coffer = (args: string[], stdin?: string) =>
    runCli(args, { env: { COFFER_ADDR: server.url, COFFER_TOKEN: ROOT, HOME: server.home }, stdin });

  it("put, get, -field and -format=json", async () => {
    const put = await coffer(["kv", "put", "secret/app/db", "username=app", "password=s3cr3t"]);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toContain("secret/data/app/db");
    expect(put.stdout).toMatch(/version\s+1/);

    const get = await coffer(["kv", "get", "secret/app/db"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(
      /====== Data ======\nKey\s+Value\n---\s+-----\npassword\s+s3cr3t\nusername\s+app\n/,
    );

    const field = await coffer(["kv", "get", "-field=password", "secret/app/db"]);
    expect(field.stdout).toBe("s3cr3t");

    const json = await coffer(["kv", "get", "-format=json", "secret/app/db"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      data: { data: { username: "app", password: "s3cr3t" }, metadata: { version: 1 } },
    });
    const sameJson = await coffer(["kv", "get", "--json", "secret/app/db"]);
    expect(JSON.parse(sameJson.stdout).data).toEqual(JSON.parse(json.stdout).data);
  });

  it("takes data from files, standard input and a JSON document", async () => {
    const dir = await mkdtemp(join(tmpdir(), "coffer-cli-kv-data-"));
    try {
      await writeFile(join(dir, "cert.pem"), "-----BEGIN-----\nabc\n-----END-----\n");
      await writeFile(join(dir, "doc.json"), JSON.stringify({ nested: { a: 1 }, flag: true }));
      const put = await coffer(
        [
          "kv",
          "put",
          "secret/app/files",
          `cert=@${join(dir, "cert.pem")}`,
          "token=-",
          `@${join(dir, "doc.json")}`,
        ],
        "from-stdin\n",
      );
      expect(put.code, put.stderr).toBe(0);
      const stored = (await api(server.url, ROOT, "GET", "secret/data/app/files")) as {
        data: { data: unknown };
      };
      expect(stored.data.data).toEqual({
        cert: "-----BEGIN-----\nabc\n-----END-----\n",
        token: "from-stdin",
        nested: { a: 1 },
        flag: true,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("patch keeps the other keys, and a stale --cas is refused with the server's message", async () => {
    const patch = await coffer(["kv", "patch", "secret/app/db", "password=rotated"]);
    expect(patch.code, patch.stderr).toBe(0);
    expect(patch.stdout).toMatch(/version\s+2/);
    expect((await coffer(["kv", "get", "-field=username", "secret/app/db"])).stdout).toBe("app");
    expect((await coffer(["kv", "get", "-field=password", "secret/app/db"])).stdout).toBe("rotated");

    const stale = await coffer(["kv", "put", "--cas", "1", "secret/app/db", "password=x"]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/^Error: .*check-and-set.* \(HTTP 400 on POST secret\/data\/app\/db\)/);

    const missing = await coffer(["kv", "patch", "secret/app/nothing", "a=b"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^Error: /);
  });

  it("reads an older version with -version", async () => {
    const old = await coffer(["kv", "get", "-version=1", "-field=password", "secret/app/db"]);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toBe("s3cr3t");
  });

  it("lists keys as a table and as JSON", async () => {
    await coffer(["kv", "put", "secret/app/nested/one", "a=1"]);
    const list = await coffer(["kv", "list", "secret/app"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe("Keys\n----\ndb\nfiles\nnested/\n");
    const json = await coffer(["kv", "list", "-format", "json", "secret/"]);
    expect(JSON.parse(json.stdout)).toEqual(["app/"]);
    const empty = await coffer(["kv", "list", "secret/nothing-here"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe("Error: no entries found at secret/metadata/nothing-here/\n");
  });

  it("delete, a readable error for the deleted version, undelete, destroy", async () => {
    expect((await coffer(["kv", "delete", "secret/app/db"])).stdout).toBe(
      "Success! Data deleted (if it existed) at: secret/data/app/db\n",
    );
    const deleted = await coffer(["kv", "get", "secret/app/db"]);
    expect(deleted.code).toBe(2);
    expect(deleted.stderr).toMatch(/^Error: version 2 of secret\/data\/app\/db was deleted at \S+\n/);
    expect(deleted.stderr).toContain("Hint: `coffer kv undelete --versions 2 secret/app/db` restores it");

    const undelete = await coffer(["kv", "undelete", "--versions", "2", "secret/app/db"]);
    expect(undelete.code, undelete.stderr).toBe(0);
    expect((await coffer(["kv", "get", "-field=password", "secret/app/db"])).stdout).toBe("rotated");

    expect((await coffer(["kv", "destroy", "-versions=1", "secret/app/db"])).code).toBe(0);
    const destroyed = await coffer(["kv", "get", "-version=1", "secret/app/db"]);
    expect(destroyed.code).toBe(2);
    expect(destroyed.stderr).toBe(
      "Error: version 1 of secret/data/app/db was destroyed: it cannot be read again\n",
    );

    expect((await coffer(["kv", "delete", "--versions", "2", "secret/app/db"])).code).toBe(0);
    expect((await coffer(["kv", "get", "secret/app/db"])).code).toBe(2);
  });

  it("metadata put, get and delete", async () => {
    const put = await coffer([
      "kv",
      "metadata",
      "put",
      "--max-versions",
      "4",
      "--custom-metadata",
      "owner=team-a",
      "--custom-metadata",
      "tier=1",
      "secret/app/files",
    ]);
    expect(put.code, put.stderr).toBe(0);
    const get = await coffer(["kv", "metadata", "get", "secret/app/files"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/max_versions\s+4/);
    expect(get.stdout).toMatch(/custom_metadata\s+\{"owner":"team-a","tier":"1"\}/);
    expect(get.stdout).toContain("====== Version 1 ======");
    const json = JSON.parse((await coffer(["kv", "metadata", "get", "--json", "secret/app/files"])).stdout);
    expect(json.data).toMatchObject({ max_versions: 4, current_version: 1 });

    const nothing = await coffer(["kv", "metadata", "put", "secret/app/files"]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("nothing to change");

    expect((await coffer(["kv", "metadata", "delete", "secret/app/files"])).code).toBe(0);
    const gone = await coffer(["kv", "get", "secret/app/files"]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe("Error: no value found at secret/data/app/files\n");
  });

  it("works on a mount named explicitly with --mount", async () => {
    await api(server.url, ROOT, "POST", "sys/mounts/team/kv", { type: "kv-v2" });
    expect((await coffer(["kv", "put", "--mount", "team/kv", "svc/config", "a=1"])).code).toBe(0);
    expect((await coffer(["kv", "get", "-mount=team/kv", "-field=a", "svc/config"])).stdout).toBe("1");
    // Without --mount the server says which mount serves the path.
    expect((await coffer(["kv", "get", "-field=a", "team/kv/svc/config"])).stdout).toBe("1");
  });

  it("reads and writes a KV version 1 mount, and says which commands need version 2", async () => {
    await api(server.url, ROOT, "POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } });
    const put = await coffer(["kv", "put", "legacy/app/db", "password=v1-secret"]);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toBe("Success! Data written to: legacy/app/db\n");
    const [field, list, patch] = await Promise.all([
      coffer(["kv", "get", "-field=password", "legacy/app/db"]),
      coffer(["kv", "list", "legacy/app"]),
      coffer(["kv", "patch", "legacy/app/db", "a=b"]),
    ]);
    expect(field.stdout).toBe("v1-secret");
    expect(list.stdout).toBe("Keys\n----\ndb\n");
    expect(patch.code).toBe(1);
    expect(patch.stderr).toBe("Error: kv patch needs a KV version 2 mount: legacy/ is version 1\n");
    expect((await coffer(["kv", "delete", "legacy/app/db"])).code).toBe(0);
    const gone = await coffer(["kv", "get", "legacy/app/db"]);
    expect(gone.stderr).toBe("Error: no value found at legacy/app/db\n");
  });

  it("answers usage mistakes with 1 and a message, before sending anything but a mount lookup", async () => {
    const cases: [string[], string | RegExp][] = [
      [["kv", "get"], "error: missing required argument 'path'"],
      [["kv", "put", "secret/app/x"], "error: missing required argument 'data'"],
      [
        ["kv", "put", "secret/app/x", "novalue"],
        'Error: expected key=value, key=@file, key=- or @file.json, got "novalue"',
      ],
      [["kv", "destroy", "--versions", "one", "secret/app/x"], 'Error: invalid versions "one"'],
      [["kv", "undelete", "secret/app/x"], "error: required option '--versions <list>' not specified"],
      [
        ["kv", "get", "--version", "latest", "secret/app/x"],
        "expected the version as a non-negative integer",
      ],
      [["kv", "get", "secret"], "Error: missing the secret's path below the mount: e.g. secret/app/db"],
      [["kv", "get", "-format=xml", "secret/app/x"], 'Error: unknown format "xml": use table, json or yaml'],
      [
        ["kv", "put", "secret/app/x", "a=@/nonexistent/file"],
        "Error: cannot read /nonexistent/file: no such file",
      ],
      [["kv", "frobnicate"], "error: unknown command 'frobnicate'"],
    ];
    // Every request the server answers is audited: the log shows what was sent.
    const auditedBefore = (await readFile(join(server.home, "audit.log"), "utf8")).length;
    const results = await Promise.all(cases.map(([args]) => coffer(args)));
    for (const [index, [args, message]] of cases.entries()) {
      const result = results[index];
      expect(result?.code, args.join(" ")).toBe(1);
      expect(result?.stderr, args.join(" ")).toMatch(message);
      expect(result?.stdout, args.join(" ")).toBe("");
    }
    // Only the mount lookup may have gone out: a path that is nothing but a mount is found
    // to be one there, as by Vault's CLI.
    const sent = (await readFile(join(server.home, "audit.log"), "utf8"))
      .slice(auditedBefore)
      .split("\n")
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as { type: string; request: { path: string }; auth?: { accessor?: string } },
      )
      .filter((record) => record.type === "response");
    expect(sent.map((record) => record.request.path)).toEqual(["sys/internal/ui/mounts/secret"]);
    // The lookup is audited with the token that made it, like any other request.
    expect(sent[0]?.auth?.accessor).toMatch(/^hmac-sha256:/);
  });
});
