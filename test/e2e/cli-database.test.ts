/**
 * `coffer database creds` against a `coffer dev` whose database engine talks to a real
 * PostgreSQL: the engine set up with `coffer secrets enable` and `coffer write`, as
 * docs/api.md shows it with the vault CLI, then a user issued, used, and revoked.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";
import { canLogIn, postgresAvailable, usePostgres } from "../support/postgres.ts";
import { runCli } from "./cli-harness.ts";

const ROOT = "cli-database-root";

describe.skipIf(!postgresAvailable())("coffer database creds, against PostgreSQL", () => {
  const postgres = usePostgres();
  const server = useDevServer({ rootToken: ROOT });
  const coffer = (args: string[]) =>
    runCli(args, { env: { VAULT_ADDR: server.url, VAULT_TOKEN: ROOT, HOME: server.home } });

  beforeAll(async () => {
    const steps = [
      ["secrets", "enable", "database"],
      [
        "write",
        "database/config/app",
        "plugin_name=postgresql-database-plugin",
        `connection_url=postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}`,
        `username=${postgres.user}`,
        `password=${postgres.password}`,
        "allowed_roles=readonly",
      ],
      [
        "write",
        "database/roles/readonly",
        "db_name=app",
        "default_ttl=1h",
        "max_ttl=24h",
        `creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      ],
    ];
    for (const args of steps) {
      const result = await coffer(args);
      if (result.code !== 0) throw new Error(`coffer ${args[0]} ${args[1]}: ${result.stderr}`);
    }
  }, 120_000);

  it("issues a user with its lease, as a table, JSON and one field; the lease revokes it", async () => {
    const table = await coffer(["database", "creds", "readonly"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^lease_id\s+database\/creds\/readonly\/\S+$/m);
    expect(table.stdout).toMatch(/^lease_duration\s+(59m59s|1h)$/m);
    expect(table.stdout).toMatch(/^username\s+v-\S+$/m);

    const json = JSON.parse((await coffer(["database", "creds", "-format=json", "readonly"])).stdout);
    const { username, password } = json.data as { username: string; password: string };
    expect(await canLogIn(postgres, username, password)).toBe(true);

    const field = await coffer(["database", "creds", "-field=lease_id", "readonly"]);
    expect(field.stdout).toMatch(/^database\/creds\/readonly\/\S+$/);

    const revoke = await coffer(["lease", "revoke", json.lease_id]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(await canLogIn(postgres, username, password)).toBe(false);
  });

  it("an unknown role is the server's refusal (2); a missing role a local error (1)", async () => {
    const [unknown, missing] = await Promise.all([
      coffer(["database", "creds", "nosuch"]),
      coffer(["database", "creds"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Error: .* \(HTTP \d{3} on GET database\/creds\/nosuch\)\n$/);
    expect(missing.code).toBe(1);
  });
});
