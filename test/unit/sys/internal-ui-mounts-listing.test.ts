/**
 * GET sys/internal/ui/mounts: the listing Vault's UI reads to show a token its mounts,
 * filtered by what the token's policies grant, in Vault's shape.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

let deployment: Deployment;

beforeEach(async () => {
  deployment = await openDeployment();
  await deployment.call("POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } });
  await deployment.call("POST", "sys/mounts/transit", { type: "transit" });
  expect((await deployment.call("POST", "sys/auth/kubernetes", { type: "kubernetes" })).status).toBe(204);
});

describe("sys/internal/ui/mounts (the listing)", () => {
  it("lists every secret and auth mount for root, auth mounts without their auth/ prefix", async () => {
    const reply = await deployment.call("GET", "sys/internal/ui/mounts");
    expect(reply.status).toBe(200);
    const { secret, auth } = reply.body.data;
    expect(Object.keys(secret).sort()).toEqual(["legacy/", "secret/", "sys/", "transit/"]);
    expect(Object.keys(auth).sort()).toEqual(["kubernetes/", "token/"]);
    expect(secret["secret/"]).toMatchObject({
      type: "kv",
      options: { version: "2" },
      accessor: expect.any(String),
      uuid: expect.any(String),
      config: { default_lease_ttl: expect.any(Number), max_lease_ttl: expect.any(Number) },
    });
    expect(secret["legacy/"].options).toEqual({ version: "1" });
    expect(auth["kubernetes/"].type).toBe("kubernetes");
    // The same mount reads the same here as in sys/mounts.
    const mounts = await deployment.call("GET", "sys/mounts");
    expect(secret["transit/"]).toEqual(mounts.body.data["transit/"]);
  });

  it("answers with and without the trailing slash", async () => {
    const plain = await deployment.call("GET", "sys/internal/ui/mounts");
    const slash = await deployment.call("GET", "sys/internal/ui/mounts/");
    expect(slash.status).toBe(200);
    expect(slash.body.data).toEqual(plain.body.data);
  });

  it("lists only the mounts the token's policies grant something in, needing no policy on sys/", async () => {
    const token = await deployment.tokenWith({
      app: 'path "secret/data/app/*" { capabilities = ["read"] }\npath "auth/kubernetes/role/+" { capabilities = ["read"] }',
    });
    const reply = await deployment.call("GET", "sys/internal/ui/mounts", undefined, token);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body.data.secret)).toEqual(["secret/"]);
    expect(Object.keys(reply.body.data.auth)).toEqual(["kubernetes/"]);
  });

  it("leaves out a mount the token's policy denies", async () => {
    const token = await deployment.tokenWith({
      mixed: 'path "secret/*" { capabilities = ["deny"] }\npath "legacy/*" { capabilities = ["list"] }',
    });
    const reply = await deployment.call("GET", "sys/internal/ui/mounts", undefined, token);
    expect(reply.body.data).toEqual({ secret: { "legacy/": expect.any(Object) }, auth: {} });
  });

  it("refuses a request without a valid token", async () => {
    for (const token of [null, "not-a-token"]) {
      expect(await deployment.call("GET", "sys/internal/ui/mounts", undefined, token)).toEqual({
        status: 403,
        body: { errors: ["permission denied"] },
      });
    }
  });
});
