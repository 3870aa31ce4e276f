/**
 * `coffer login` against a running `coffer dev`, and the errors a person meets first: not
 * logged in, a wrong address, a server that is not Coffer, a token that is refused.
 */

import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { useDevServer } from "../support/dev-server.ts";
import { freePort } from "../support/moto.ts";
import { api, runCli } from "./cli-harness.ts";

const ROOT = "cli-login-root";

describe("coffer login and the common errors", () => {
  const server = useDevServer({ rootToken: ROOT });
  let jwtFile: string;
  let notCoffer: Server;
  const env = (extra: Record<string, string | undefined> = {}) => ({
    COFFER_ADDR: server.url,
    HOME: server.home,
    ...extra,
  });
  const coffer = (args: string[], extra: Record<string, string | undefined> = {}, stdin?: string) =>
    runCli(args, { env: env(extra), stdin });

  beforeAll(async () => {
    await api(server.url, ROOT, "PUT", "sys/policies/acl/app", {
      policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
    });
    await api(server.url, ROOT, "POST", "auth/kubernetes/role/app", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "shop",
      audience: "coffer",
      token_policies: "app",
      token_ttl: "1h",
    });
    await api(server.url, ROOT, "POST", "secret/data/app/db", { data: { password: "pw-4c1d" } });
    jwtFile = join(server.home, "sa-token");
    await writeFile(
      jwtFile,
      await requestDevToken(
        server.url,
        { namespace: "shop", serviceAccount: "app", audience: "coffer" },
        ROOT,
      ),
    );
    notCoffer = createServer((_request, response) => {
      response.writeHead(404, { "Content-Type": "text/html" }).end("<html>not here</html>");
    });
    await new Promise<void>((resolve) => notCoffer.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => notCoffer?.close(resolve));
  });

  it("logs in with a service account token, keeps the token in ~/.coffer-token (0600), and uses it", async () => {
    const login = await coffer(["login", "kubernetes", "--role", "app", "--jwt-file", jwtFile]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`The token is stored in ${join(server.home, ".coffer-token")}`);
    expect(login.stdout).toMatch(/token_policies\s+\[app default\]/);
    expect(login.stdout).toMatch(/token_meta_service_account_namespace\s+shop/);
    const stored = (await readFile(join(server.home, ".coffer-token"), "utf8")).trim();
    expect(stored).toMatch(/^cof\./);
    expect(login.stdout).not.toContain(stored);
    expect((await stat(join(server.home, ".coffer-token"))).mode & 0o777).toBe(0o600);

    const [read, lookup] = await Promise.all([
      coffer(["kv", "get", "-field=password", "secret/app/db"]),
      coffer(["token", "lookup", "-format=json"]),
    ]);
    expect(read.stdout).toBe("pw-4c1d");
    expect(JSON.parse(lookup.stdout).data).toMatchObject({
      policies: ["app", "default"],
      path: "auth/kubernetes/login",
    });
  });

  it("permission denied: the server's message, the path, and where the token came from", async () => {
    const denied = await coffer(["kv", "put", "secret/app/db", "password=x"]);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toBe(
      "Error: permission denied (HTTP 403 on POST secret/data/app/db)\n" +
        `Hint: the token from ${join(server.home, ".coffer-token")} was refused: it may have expired (log in again) or ` +
        "its policies may not allow this; `coffer token lookup` shows them\n",
    );
  });

  it("login token checks a token from standard input before storing it; --no-store prints the token", async () => {
    const bad = await coffer(["login", "token"], {}, "cof.not-a-real-token\n");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^Error: permission denied \(HTTP 403 on GET auth\/token\/lookup-self\)/);

    const good = await coffer(["login", "token"], {}, `${ROOT}\n`);
    expect(good.code, good.stderr).toBe(0);
    expect((await readFile(join(server.home, ".coffer-token"), "utf8")).trim()).toBe(ROOT);
    expect(good.stdout).toMatch(/policies\s+\[root\]/);

    const printed = await coffer([
      "login",
      "kubernetes",
      "--role",
      "app",
      "--jwt-file",
      jwtFile,
      "--no-store",
    ]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^token\s+cof\./m);
    expect((await readFile(join(server.home, ".coffer-token"), "utf8")).trim()).toBe(ROOT);

    const field = await coffer([
      "login",
      "kubernetes",
      "--role",
      "app",
      "--jwt-file",
      jwtFile,
      "--no-store",
      "-field=token",
    ]);
    expect(field.stdout).toMatch(/^cof\.\S+$/);
  });

  it("warns when COFFER_TOKEN will take precedence over the token just stored", async () => {
    const login = await coffer(["login", "token"], { COFFER_TOKEN: ROOT }, `${ROOT}\n`);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain("Warning: COFFER_TOKEN takes precedence over the stored token.");
  });

  it("login errors: the wrong role, a missing token file, a missing --role", async () => {
    const [wrongRole, noFile, noRole, emptyStdin] = await Promise.all([
      coffer(["login", "kubernetes", "--role", "nope", "--jwt-file", jwtFile]),
      coffer(["login", "kubernetes", "--role", "app", "--jwt-file", join(server.home, "absent")]),
      coffer(["login", "kubernetes", "--jwt-file", jwtFile]),
      coffer(["login", "token"], {}, ""),
    ]);
    expect(wrongRole.code).toBe(2);
    expect(wrongRole.stderr).toMatch(/^Error: .*\(HTTP (400|403) on POST auth\/kubernetes\/login\)\n$/);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toBe(
      `Error: cannot read the service account token at ${join(server.home, "absent")}: no such file; pass --jwt-file\n`,
    );
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toContain("error: required option '--role <role>' not specified");
    expect(emptyStdin.code).toBe(1);
    expect(emptyStdin.stderr).toBe("Error: missing token: standard input was empty\n");
  });

  it("not logged in, a wrong address, a server that is not Coffer, an invalid address", async () => {
    const closed = await freePort();
    const other = `http://127.0.0.1:${(notCoffer.address() as AddressInfo).port}`;
    const emptyHome = await mkdtemp(join(tmpdir(), "coffer-cli-nohome-"));
    try {
      const [notLoggedIn, refused, vaultAddr, wrongServer, invalid] = await Promise.all([
        coffer(["kv", "get", "secret/app/db"], { HOME: emptyHome }),
        coffer(["kv", "get", "secret/app/db"], {
          COFFER_ADDR: `http://127.0.0.1:${closed}`,
          COFFER_TOKEN: ROOT,
        }),
        coffer(["token", "lookup"], {
          COFFER_ADDR: undefined,
          VAULT_ADDR: `http://127.0.0.1:${closed}`,
          VAULT_TOKEN: ROOT,
        }),
        coffer(["kv", "get", "secret/app/db"], { COFFER_TOKEN: ROOT, COFFER_ADDR: other }),
        coffer(["kv", "get", "--address", "not a url", "secret/app/db"], { COFFER_TOKEN: ROOT }),
      ]);
      // No token and no valid address fail as the vault CLI's request would: remote errors.
      expect(notLoggedIn.code).toBe(2);
      expect(notLoggedIn.stderr).toBe(
        "Error: not logged in: run `coffer login kubernetes --role <role>` or `coffer login token`, or set VAULT_TOKEN\n",
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        `Error: cannot reach Coffer at http://127.0.0.1:${closed}: connection refused\n` +
          "Hint: the address came from COFFER_ADDR; set COFFER_ADDR (or VAULT_ADDR) or pass --address\n",
      );
      expect(vaultAddr.code).toBe(2);
      expect(vaultAddr.stderr).toContain("Hint: the address came from VAULT_ADDR");
      expect(wrongServer.code).toBe(2);
      expect(wrongServer.stderr).toContain(
        `Error: the server at ${other} did not answer like Coffer (HTTP 404, text/html): check the address`,
      );
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toBe(
        'Error: invalid address "not a url" (from --address): expected a URL such as http://127.0.0.1:8200\n',
      );
    } finally {
      await rm(emptyHome, { recursive: true, force: true });
    }
  });

  it("token revoke --self ends the session and forgets the stored token", async () => {
    const login = await coffer(["login", "kubernetes", "--role", "app", "--jwt-file", jwtFile]);
    expect(login.code).toBe(0);
    const revoke = await coffer(["token", "revoke", "--self"]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toBe("Success! Revoked the token and the leases it obtained\n");
    await expect(stat(join(server.home, ".coffer-token"))).rejects.toThrow();
    expect((await coffer(["kv", "get", "secret/app/db"])).code).toBe(2);
  });
});
