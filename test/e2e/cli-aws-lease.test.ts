/**
 * `coffer aws creds` and `coffer lease` over HTTP: AWS credentials from a `coffer dev`
 * whose aws engine talks to moto (STS and IAM), their leases looked up and revoked; and
 * the renewal of a renewable lease, from a broker with the lease test engine mounted
 * (the product has no renewable lease type of its own: STS credentials cannot be renewed).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountAwsOnMoto } from "../support/aws-engine-fixture.ts";
import { useDevServer } from "../support/dev-server.ts";
import { type LoopbackServer, serveOnLoopback } from "../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../support/lease-deployment.ts";
import { motoAvailable, useMoto } from "../support/moto.ts";
import { api, runCli } from "./cli-harness.ts";

const ROOT = "cli-aws-root";

describe.skipIf(!motoAvailable())("coffer aws creds and coffer lease, against moto", () => {
  const moto = useMoto();
  const server = useDevServer({ rootToken: ROOT });
  const coffer = (args: string[]) =>
    runCli(args, { env: { COFFER_ADDR: server.url, COFFER_TOKEN: ROOT, HOME: server.home } });

  beforeAll(async () => {
    await mountAwsOnMoto((method, path, body) => api(server.url, ROOT, method, path, body), moto);
  }, 120_000);

  it("issues credentials with a lease, looks the lease up, and revokes it", async () => {
    const creds = await coffer(["aws", "creds", "deploy", "--ttl", "15m"]);
    expect(creds.code, creds.stderr).toBe(0);
    const leaseId = /^lease_id\s+(aws\/creds\/deploy\/\S+)$/m.exec(creds.stdout)?.[1] as string;
    expect(leaseId).toBeDefined();
    expect(creds.stdout).toMatch(/^lease_duration\s+(14m59s|15m)$/m);
    expect(creds.stdout).toMatch(/^lease_renewable\s+false$/m);
    expect(creds.stdout).toMatch(/^access_key\s+\S+$/m);
    expect(creds.stdout).toMatch(/^secret_key\s+\S+$/m);
    expect(creds.stdout).toMatch(/^security_token\s+\S+$/m);

    const [lookup, json, renew] = await Promise.all([
      coffer(["lease", "lookup", leaseId]),
      coffer(["lease", "lookup", "-format=json", leaseId]),
      coffer(["lease", "renew", leaseId]),
    ]);
    expect(lookup.code, lookup.stderr).toBe(0);
    expect(lookup.stdout).toMatch(new RegExp(`^id\\s+${leaseId}$`, "m"));
    expect(lookup.stdout).toMatch(/^renewable\s+false$/m);
    expect(JSON.parse(json.stdout).data).toMatchObject({ id: leaseId, renewable: false });
    expect(renew.code).toBe(2);
    expect(renew.stderr).toBe("Error: lease is not renewable (HTTP 400 on PUT sys/leases/renew)\n");

    const revoke = await coffer(["lease", "revoke", leaseId]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toBe(`Success! Revoked lease: ${leaseId}\n`);
    const gone = await coffer(["lease", "lookup", leaseId]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe("Error: invalid lease (HTTP 400 on PUT sys/leases/lookup)\n");
  });

  it("revokes every lease under a prefix", async () => {
    const [first, second] = await Promise.all([
      coffer(["aws", "creds", "deploy", "-format=json"]),
      coffer(["aws", "creds", "deploy", "-field=lease_id"]),
    ]);
    const firstId = JSON.parse(first.stdout).lease_id as string;
    expect(firstId).toMatch(/^aws\/creds\/deploy\//);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^aws\/creds\/deploy\/\S+$/);

    const revoke = await coffer(["lease", "revoke-prefix", "aws/creds/deploy"]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toBe("Success! Revoked every lease with the prefix: aws/creds/deploy\n");
    const [firstGone, secondGone] = await Promise.all([
      coffer(["lease", "lookup", firstId]),
      coffer(["lease", "lookup", second.stdout]),
    ]);
    expect(firstGone.code).toBe(2);
    expect(secondGone.code).toBe(2);
  });

  it("shows the server's refusal for an unknown role, and usage errors with 1", async () => {
    const [unknown, noRole, noLease] = await Promise.all([
      coffer(["aws", "creds", "nobody"]),
      coffer(["aws", "creds"]),
      coffer(["lease", "lookup"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^Error: .*nobody.* \(HTTP 4\d\d on GET aws\/creds\/nobody\)\n$/);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toContain("missing required argument 'role'");
    expect(noLease.code).toBe(1);
    expect(noLease.stderr).toContain("missing required argument 'lease-id'");
  });
});

describe("coffer lease renew, on a renewable lease", () => {
  let deployment: LeaseDeployment;
  let served: LoopbackServer | undefined;
  let address: string;
  let rootToken: string;
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "coffer-cli-lease-"));
    deployment = await openLeaseDeployment();
    rootToken = deployment.rootToken;
    served = await serveOnLoopback(deployment.app);
    address = served.address;
  });

  afterAll(async () => {
    await served?.close();
    await deployment?.close();
    await rm(home, { recursive: true, force: true });
  });

  it("extends the lease by the increment asked for", async () => {
    const issued = await api(address, rootToken, "GET", "t/creds/app");
    const leaseId = issued?.lease_id as string;
    const renew = await runCli(["lease", "renew", "--increment", "2m", leaseId], {
      env: { COFFER_ADDR: address, COFFER_TOKEN: rootToken, HOME: home },
    });
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stdout).toMatch(new RegExp(`^lease_id\\s+${leaseId}$`, "m"));
    expect(renew.stdout).toMatch(/^lease_duration\s+(1m59s|2m)$/m);
    expect(renew.stdout).toMatch(/^lease_renewable\s+true$/m);
  });
});
