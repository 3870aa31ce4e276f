/**
 * GET sys/internal/ui/mounts/<path>: the preflight the vault CLI makes to learn a mount's
 * path and KV version, under Vault's permission rules.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

let deployment: Deployment;

beforeEach(async () => {
  deployment = await openDeployment();
  await deployment.call("POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } });
});

const refusal = (path: string) => ({
  status: 403,
  body: {
    errors: [
      `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`,
    ],
  },
});

describe("sys/internal/ui/mounts", () => {
  it("answers with the mount's path, type and options.version", async () => {
    const reply = await deployment.call("GET", "sys/internal/ui/mounts/secret/app/db");
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({
      path: "secret/",
      type: "kv",
      options: { version: "2" },
      accessor: expect.any(String),
      uuid: expect.any(String),
    });
    const legacy = await deployment.call("GET", "sys/internal/ui/mounts/legacy");
    expect(legacy.body.data).toMatchObject({ path: "legacy/", type: "kv", options: { version: "1" } });
  });

  it("refuses callers without a valid token", async () => {
    for (const token of [null, "not-a-token"]) {
      expect(await deployment.call("GET", "sys/internal/ui/mounts/secret/app", undefined, token)).toEqual({
        status: 403,
        body: { errors: ["permission denied"] },
      });
    }
  });

  it("gives an unknown mount the same refusal as a forbidden one", async () => {
    expect(await deployment.call("GET", "sys/internal/ui/mounts/nosuch/x")).toEqual(refusal("nosuch/x/"));
    const token = await deployment.tokenWith({ other: 'path "legacy/*" { capabilities = ["read"] }' });
    expect(await deployment.call("GET", "sys/internal/ui/mounts/secret/x", undefined, token)).toEqual(
      refusal("secret/x/"),
    );
  });

  it("answers a token whose policies grant something in the mount, needing no policy on sys/", async () => {
    const token = await deployment.tokenWith({ reader: 'path "secret/*" { capabilities = ["read"] }' });
    const reply = await deployment.call("GET", "sys/internal/ui/mounts/secret/app", undefined, token);
    expect(reply.status).toBe(200);
    expect(reply.body.data.options).toEqual({ version: "2" });
  });

  it("answers a token granted only paths deep inside the mount, as the vault CLI needs", async () => {
    const exact = await deployment.tokenWith({
      app: 'path "secret/data/app/db" { capabilities = ["read"] }',
    });
    expect(
      (await deployment.call("GET", "sys/internal/ui/mounts/secret/app/db", undefined, exact)).status,
    ).toBe(200);
    const glob = await deployment.tokenWith({
      team: 'path "secret/data/team-a/*" { capabilities = ["read"] }',
    });
    expect(
      (await deployment.call("GET", "sys/internal/ui/mounts/secret/team-a/x", undefined, glob)).status,
    ).toBe(200);
    const segment = await deployment.tokenWith({
      any: 'path "secret/data/+/config" { capabilities = ["read"] }',
    });
    expect(
      (await deployment.call("GET", "sys/internal/ui/mounts/secret/x/config", undefined, segment)).status,
    ).toBe(200);
    expect(await deployment.call("GET", "sys/internal/ui/mounts/legacy/x", undefined, glob)).toEqual(
      refusal("legacy/x/"),
    );
  });

  it("refuses a token whose policy denies the mount", async () => {
    const token = await deployment.tokenWith({ denied: 'path "secret/*" { capabilities = ["deny"] }' });
    expect(await deployment.call("GET", "sys/internal/ui/mounts/secret/app", undefined, token)).toEqual(
      refusal("secret/app/"),
    );
  });
});
