/**
 * node-vault (pinned in package.json), unmodified, against `coffer dev` over HTTP for
 * dynamic credentials and their leases: AWS credentials from STS on moto, and PostgreSQL
 * users on a real PostgreSQL server; each lease renewed or revoked through the client's
 * own commands, by id and by prefix (sys/revoke-prefix is node-vault's only way).
 */
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import vault from "node-vault";
import { beforeAll, describe, expect, it } from "vitest";
import { MOTO_ACCESS_KEY, MOTO_SECRET_KEY, TRUST_POLICY } from "../support/aws-engine-fixture.ts";
import { useDevServer } from "../support/dev-server.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { canLogIn, postgresAvailable, usePostgres } from "../support/postgres.ts";

const ROOT = "compat-node-vault-leases-root";

describe.skipIf(!motoAvailable())("node-vault: AWS credentials and their leases, on moto", () => {
  const moto = useMoto();
  const server = useDevServer({ rootToken: ROOT });
  let client: ReturnType<typeof vault>;

  beforeAll(async () => {
    client = vault({ endpoint: server.url, token: ROOT });
    const iam = new IAMClient(motoClientConfig(moto));
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: "deploy", AssumeRolePolicyDocument: TRUST_POLICY }),
    );
    await client.mount({ mount_point: "aws", type: "aws" });
    await client.write("aws/config/root", {
      region: moto.region,
      sts_endpoint: moto.endpoint,
      iam_endpoint: moto.endpoint,
      access_key: MOTO_ACCESS_KEY,
      secret_key: MOTO_SECRET_KEY,
    });
    await client.write("aws/roles/deploy", { credential_type: "assumed_role", role_arns: [role.Role?.Arn] });
  }, 120_000);

  it("reads credentials with a lease, and revokes it by id and by prefix", async () => {
    const first = await client.read("aws/creds/deploy");
    expect(first.data).toMatchObject({ access_key: expect.stringMatching(/^ASIA/) });
    expect(first.lease_id).toMatch(/^aws\/creds\/deploy\//);
    expect(first.renewable).toBe(false);
    // STS credentials cannot be renewed, in Vault as in Coffer.
    await expect(client.renew({ lease_id: first.lease_id })).rejects.toMatchObject({
      message: "lease is not renewable",
    });
    await client.revoke({ lease_id: first.lease_id });
    await expect(client.write("sys/leases/lookup", { lease_id: first.lease_id })).rejects.toMatchObject({
      response: { statusCode: 400 },
    });

    const second = await client.write("aws/sts/deploy", { ttl: "15m" });
    expect(second.lease_duration).toBeLessThanOrEqual(900);
    await client.revokePrefix({ path_prefix: "aws/creds" });
    await client.revokePrefix({ path_prefix: "aws/sts" });
    await expect(client.list("sys/leases/lookup/aws/sts/deploy")).rejects.toMatchObject({
      response: { statusCode: 404 },
    });
  });
});

describe.skipIf(!postgresAvailable())(
  "node-vault: database credentials and their leases, on PostgreSQL",
  () => {
    const postgres = usePostgres();
    const server = useDevServer({ rootToken: ROOT });
    let client: ReturnType<typeof vault>;

    beforeAll(async () => {
      client = vault({ endpoint: server.url, token: ROOT });
      await client.mount({ mount_point: "database", type: "database" });
      await client.write("database/config/app", {
        plugin_name: "postgresql-database-plugin",
        connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}`,
        username: postgres.user,
        password: postgres.password,
        allowed_roles: "readonly",
      });
      await client.write("database/roles/readonly", {
        db_name: "app",
        default_ttl: "1h",
        max_ttl: "24h",
        creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      });
    }, 120_000);

    it("generates a user that logs in, renews its lease, and revokes it by id and by prefix", async () => {
      const creds = await client.generateDatabaseCredentials({ databasePath: "database", name: "readonly" });
      expect(creds.lease_id).toMatch(/^database\/creds\/readonly\//);
      expect(creds.renewable).toBe(true);
      const { username, password } = creds.data;
      expect(await canLogIn(postgres, username, password)).toBe(true);

      const renewed = await client.renew({ lease_id: creds.lease_id, increment: 7200 });
      expect(renewed).toMatchObject({ lease_id: creds.lease_id, renewable: true, lease_duration: 7200 });
      await client.revoke({ lease_id: creds.lease_id });
      expect(await canLogIn(postgres, username, password)).toBe(false);

      const next = await client.generateDatabaseCredentials({ databasePath: "database", name: "readonly" });
      expect(await canLogIn(postgres, next.data.username, next.data.password)).toBe(true);
      await client.revokePrefix({ path_prefix: "database/creds/readonly" });
      expect(await canLogIn(postgres, next.data.username, next.data.password)).toBe(false);
    });
  },
);
