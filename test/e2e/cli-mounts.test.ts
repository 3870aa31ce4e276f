/**
 * `coffer secrets`, `coffer auth` and `coffer status` against a running `coffer dev`:
 * enabling, listing, tuning and disabling secrets engines and auth methods with the vault
 * CLI's flags and messages, the server's status, and the exit code of each error.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { useDevServer } from "../support/dev-server.ts";
import { freePort } from "../support/moto.ts";
import { createToken, runCli } from "./cli-harness.ts";

const ROOT = "cli-mounts-root";

describe("coffer secrets, coffer auth and coffer status", () => {
  const server = useDevServer({ rootToken: ROOT });
  let plain: string;
  const coffer = (args: string[], extra: Record<string, string | undefined> = {}) =>
    runCli(args, { env: { VAULT_ADDR: server.url, VAULT_TOKEN: ROOT, HOME: server.home, ...extra } });
  const mounts = async (api: "secrets" | "auth") =>
    JSON.parse((await coffer([api, "list", "-format=json"])).stdout) as Record<
      string,
      {
        type: string;
        description: string;
        options: Record<string, string> | null;
        config: Record<string, unknown>;
      }
    >;

  beforeAll(async () => {
    plain = (await createToken(server.url, ROOT, ["default"])).token;
  });

  it("enables secrets engines with the vault CLI's flags, lists them, and disables them", async () => {
    const [v2, version, options] = await Promise.all([
      coffer(["secrets", "enable", "-path=team", "-description=team secrets", "-max-lease-ttl=2h", "kv-v2"]),
      coffer(["secrets", "enable", "-version=2", "-path=teamb", "kv"]),
      coffer(["secrets", "enable", "-options=version=1", "-path=legacy", "kv"]),
    ]);
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.stdout).toBe("Success! Enabled the kv-v2 secrets engine at: team/\n");
    expect(version.stdout).toBe("Success! Enabled the kv secrets engine at: teamb/\n");
    expect(options.code, options.stderr).toBe(0);

    const listed = await mounts("secrets");
    expect(listed["team/"]).toMatchObject({
      type: "kv",
      description: "team secrets",
      options: { version: "2" },
      config: { max_lease_ttl: 7200 },
    });
    expect(listed["teamb/"]?.options).toEqual({ version: "2" });
    expect(listed["legacy/"]?.options).toEqual({ version: "1" });

    const [table, detailed, yaml] = await Promise.all([
      coffer(["secrets", "list"]),
      coffer(["secrets", "list", "-detailed"]),
      coffer(["secrets", "list", "-format=yaml"]),
    ]);
    expect(table.stdout).toMatch(
      /^Path\s+Type\s+Accessor\s+Description\n----\s+----\s+--------\s+-----------\n/,
    );
    expect(table.stdout).toMatch(/^team\/\s+kv\s+kv_\w+\s+team secrets$/m);
    expect(detailed.stdout).toMatch(/^team\/\s+kv\s+kv_\w+\s+system\s+7200\s+version=2\s+team secrets$/m);
    expect(parseYaml(yaml.stdout)["team/"]).toMatchObject({ type: "kv" });

    const disable = await coffer(["secrets", "disable", "team"]);
    expect(disable.stdout).toBe("Success! Disabled the secrets engine (if it existed) at: team/\n");
    expect(Object.keys(await mounts("secrets"))).not.toContain("team/");
  });

  it("secrets: local errors exit 1, the server's refusals 2", async () => {
    const [duration, missing, unknown, taken, denied, tune] = await Promise.all([
      coffer(["secrets", "enable", "-default-lease-ttl=soon", "-path=never", "kv"]),
      coffer(["secrets", "enable"]),
      coffer(["secrets", "enable", "nosuch"]),
      coffer(["secrets", "enable", "-path=secret", "kv"]),
      coffer(["secrets", "disable", "transit"], { VAULT_TOKEN: plain }),
      coffer(["secrets", "tune", "-max-lease-ttl=1h", "secret"]),
    ]);
    expect(duration.code).toBe(1);
    expect(duration.stderr).toContain('expected a duration such as "30m", "1h30m" or 3600');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("missing required argument 'type'");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "Error: plugin not found in the catalog: nosuch (HTTP 400 on POST sys/mounts/nosuch/)\n",
    );
    expect(taken.code).toBe(2);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain("permission denied");
    // Tuning is written to Vault's API (POST sys/mounts/<path>/tune).
    expect(tune.code, tune.stderr).toBe(0);
    expect(tune.stdout).toBe("Success! Tuned the secrets engine at: secret/\n");
    expect((await mounts("secrets"))["secret/"]?.config).toMatchObject({ max_lease_ttl: 3600 });
    expect(Object.keys(await mounts("secrets"))).not.toContain("never/");
  });

  it("enables, lists, configures and disables an auth method", async () => {
    const enable = await coffer([
      "auth",
      "enable",
      "-path=k8s-prod",
      "-description=prod cluster",
      "kubernetes",
    ]);
    expect(enable.code, enable.stderr).toBe(0);
    expect(enable.stdout).toBe("Success! Enabled kubernetes auth method at: k8s-prod/\n");
    const config = await coffer([
      "write",
      "auth/k8s-prod/config",
      "issuer=https://kubernetes.default.svc",
      "jwks_url=http://127.0.0.1:1/jwks",
    ]);
    expect(config.code, config.stderr).toBe(0);

    const [table, json] = await Promise.all([
      coffer(["auth", "list"]),
      coffer(["auth", "list", "-format=json"]),
    ]);
    expect(table.stdout).toMatch(/^k8s-prod\/\s+kubernetes\s+auth_kubernetes_\w+\s+prod cluster$/m);
    expect(table.stdout).toMatch(/^token\/\s+token\s+/m);
    expect(JSON.parse(json.stdout)["k8s-prod/"]).toMatchObject({
      type: "kubernetes",
      description: "prod cluster",
    });

    const [tune, denied, unknown] = await Promise.all([
      coffer(["auth", "tune", "-default-lease-ttl=1h", "k8s-prod"]),
      coffer(["auth", "disable", "k8s-prod"], { VAULT_TOKEN: plain }),
      coffer(["auth", "enable", "userpass"]),
    ]);
    expect(tune.code, tune.stderr).toBe(0);
    expect((await mounts("auth"))["k8s-prod/"]?.config).toMatchObject({ default_lease_ttl: 3600 });
    expect(denied.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("plugin not found in the catalog: userpass");

    const disable = await coffer(["auth", "disable", "k8s-prod"]);
    expect(disable.stdout).toBe("Success! Disabled the auth method (if it existed) at: k8s-prod/\n");
    expect(Object.keys(JSON.parse((await coffer(["auth", "list", "-format=json"])).stdout))).not.toContain(
      "k8s-prod/",
    );
  });

  it("status: the seal status without a token, with vault status's exit codes", async () => {
    const closed = await freePort();
    const [table, json, unreachable] = await Promise.all([
      coffer(["status"], { VAULT_TOKEN: undefined }),
      coffer(["status", "-format=json"], { VAULT_TOKEN: undefined }),
      coffer(["status"], { VAULT_ADDR: `http://127.0.0.1:${closed}` }),
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /^Key\s+Value\n---\s+-----\nSeal Type\s+shamir\nInitialized\s+true\nSealed\s+false\n/,
    );
    expect(table.stdout).toMatch(/^HA Enabled\s+false$/m);
    expect(JSON.parse(json.stdout)).toMatchObject({ initialized: true, sealed: false, ha_enabled: false });
    // 2 would mean sealed: an unreadable status is 1.
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach Coffer at http://127.0.0.1:${closed}`);
  });
});
