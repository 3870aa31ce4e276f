/**
 * A mount path never ends in a segment the sys routes use after a mount path (`tune`):
 * such a mount could not be addressed, and enabling one through sys/mounts/<x>/tune
 * is how Vault's tune endpoint was taken for an enable.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

describe("reserved mount path segments", () => {
  let deployment: Deployment;
  beforeEach(async () => {
    deployment = await openDeployment();
  });
  afterEach(async () => {
    await deployment.close();
  });

  const mountPaths = async () => (await deployment.broker.mounts.list()).map((mount) => mount.path);

  it("refuses a secrets engine or auth method at a path ending in tune, through every spelling", async () => {
    const before = await mountPaths();
    const attempts: [string, unknown][] = [
      ["sys/mounts/team/tune", { type: "kv-v2" }],
      ["sys/mounts/team/tune/", { type: "kv-v2" }],
      ["sys/mounts/tune", { type: "kv-v2" }],
      ["sys/mounts/a/b/tune/", { type: "transit" }],
      ["sys/auth/k8s/tune", { type: "kubernetes" }],
      ["sys/auth/k8s/tune/", { type: "kubernetes" }],
      ["sys/auth/tune/", { type: "kubernetes" }],
    ];
    for (const [path, body] of attempts) {
      const reply = await deployment.call("POST", path, body);
      expect(reply.status, path).toBe(400);
      // Either the path is refused, or it names the tuning of a mount that does not exist.
      expect(reply.body.errors[0], path).toMatch(/"tune"|no matching mount at|no auth mount at/);
    }
    expect(await mountPaths()).toEqual(before);
  });

  it("still mounts at paths that only contain the word", async () => {
    for (const path of ["tuner", "tune-x", "tune/x", "a/tunes"]) {
      const reply = await deployment.call("POST", `sys/mounts/${path}`, { type: "kv-v2" });
      expect(reply.status, path).toBe(204);
    }
    expect(await mountPaths()).toEqual(expect.arrayContaining(["tuner/", "tune-x/", "tune/x/", "a/tunes/"]));
  });

  it("reads and tunes a secrets engine at sys/mounts/<path>/tune", async () => {
    const read = await deployment.call("GET", "sys/mounts/secret/tune");
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false });
    const tune = await deployment.call("POST", "sys/mounts/secret/tune", { default_lease_ttl: "1h" });
    expect(tune.status).toBe(204);
    expect((await deployment.call("GET", "sys/mounts/secret/tune")).body.data.default_lease_ttl).toBe(3600);
    expect((await deployment.call("GET", "sys/mounts/nothing/tune")).status).toBe(400);
  });
});
