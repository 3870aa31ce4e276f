/**
 * Fields as Vault clients send them, answered as Vault answers them: a path parameter
 * repeated in the body is a field (the path's value wins), a field of Vault's schema
 * Coffer does not use is accepted, a field Vault does not know is ignored and named in a
 * warning; and a field of the wrong type is refused only after the request is audited, as
 * every other mistake a handler finds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const REPLACED = (names: string) =>
  `Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [${names}]`;
const POLICY = 'path "secret/*" { capabilities = ["read"] }';

describe("fields as Vault clients send them", () => {
  let subject: Deployment;

  beforeAll(async () => {
    subject = await openDeployment();
    for (const [path, type] of [
      ["sys/mounts/transit", "transit"],
      ["sys/mounts/aws", "aws"],
    ]) {
      expect((await subject.call("POST", path as string, { type })).status).toBe(204);
    }
  });
  afterAll(() => subject?.close());

  it("takes path parameters repeated in the body", async () => {
    const { call } = subject;
    expect((await call("POST", "sys/policy/reader", { name: "reader", policy: POLICY })).status).toBe(204);
    expect((await call("PUT", "sys/policies/acl/writer", { name: "writer", policy: POLICY })).status).toBe(
      204,
    );
    expect((await call("GET", "sys/policies/acl/writer")).body.data.policy).toBe(POLICY);

    const key = await call("POST", "transit/keys/orders", { name: "orders" });
    expect(key.status).toBe(200);
    expect(key.body.warnings).toEqual([REPLACED("name")]);
    const encrypted = await call("POST", "transit/encrypt/orders", { name: "orders", plaintext: "c2VjcmV0" });
    expect(encrypted.body.data.ciphertext).toMatch(/^vault:v1:/);

    expect((await call("POST", "sys/auth/kubernetes", { type: "kubernetes" })).status).toBe(204);
    const role = await call("POST", "auth/kubernetes/role/app", {
      name: "app",
      bound_service_account_names: "app",
      bound_service_account_namespaces: "default",
      audience: "coffer",
    });
    // Without a body the answer stays a 204, as Vault's: the warning goes with answers that have one.
    expect(role.status).toBe(204);
    expect((await call("GET", "auth/kubernetes/role/app?name=app")).body.warnings).toEqual([
      REPLACED("name"),
    ]);
    // The role exists, so the creds request reaches the point where AWS is needed.
    expect((await call("POST", "aws/creds/nobody", { name: "nobody" })).body.errors).toEqual([
      'Role "nobody" not found',
    ]);
    expect((await call("PUT", "sys/leases/revoke-prefix/aws/creds", { prefix: "aws/creds" })).status).toBe(
      204,
    );
  });

  it("accepts Vault's schema fields it does not use, and ignores fields Vault does not know", async () => {
    const { call } = subject;
    // A popular Python client always sends plugin_name; a popular Node client sends mount_point.
    expect(
      (await call("POST", "sys/mounts/kv-py", { type: "kv", options: { version: "2" }, plugin_name: "" }))
        .status,
    ).toBe(204);
    expect((await call("POST", "sys/mounts/kv-node", { type: "kv-v2", mount_point: "kv-node" })).status).toBe(
      204,
    );
    expect(
      (await call("POST", "sys/auth/k8s-node", { type: "kubernetes", mount_point: "k8s-node" })).status,
    ).toBe(204);
    const mounts = Object.keys((await call("GET", "sys/mounts")).body.data);
    expect(mounts).toEqual(expect.arrayContaining(["kv-py/", "kv-node/"]));
    const read = await call("GET", "sys/mounts/kv-node?mount_point=kv-node");
    expect(read.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [mount_point]"]);
  });

  it("refuses a field of the wrong type with a 400 after auditing the request", async () => {
    const audited = subject.audit.length;
    const reply = await subject.call("POST", "transit/keys/orders/config", { deletion_allowed: "maybe" });
    expect(reply).toMatchObject({
      status: 400,
      body: { errors: ['invalid value for "deletion_allowed": expected a boolean'] },
    });
    const records = subject.audit.slice(audited);
    expect(records.map((record) => record.type)).toEqual(["request", "response"]);
    expect(records[0].request.data).toHaveProperty("deletion_allowed");
    expect(records[1].response.status).toBe(400);
  });
});
