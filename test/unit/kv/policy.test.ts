/**
 * Which capability each KV v2 operation needs, checked through real ACL policies: patch
 * needs "patch", writes split into "create" and "update" by whether the secret exists,
 * delete/undelete/destroy need "update" on their own paths.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

let kv: Deployment;

beforeEach(async () => {
  kv = await openDeployment();
  await put(kv, "app", { a: 1 });
});

const policy = (path: string, capabilities: string[]) =>
  `path "${path}" { capabilities = ${JSON.stringify(capabilities)} }`;

describe("capabilities", () => {
  it("PATCH needs patch: update alone is not enough", async () => {
    const updater = await kv.tokenWith({ updater: policy("secret/data/*", ["read", "update"]) });
    const patch = { data: { a: 2 } };
    expect((await kv.call("PATCH", "secret/data/app", patch, updater)).status).toBe(403);
    const patcher = await kv.tokenWith({ patcher: policy("secret/data/*", ["patch"]) });
    expect((await kv.call("PATCH", "secret/data/app", patch, patcher)).status).toBe(200);
  });

  it("a write to a new secret needs create, to an existing one update", async () => {
    const creator = await kv.tokenWith({ creator: policy("secret/data/*", ["create"]) });
    expect((await kv.call("POST", "secret/data/new", { data: { a: 1 } }, creator)).status).toBe(200);
    expect((await kv.call("POST", "secret/data/app", { data: { a: 1 } }, creator)).status).toBe(403);
  });

  it("delete, undelete and destroy need update on their own paths", async () => {
    const dataOnly = await kv.tokenWith({
      data: policy("secret/data/*", ["create", "read", "update", "delete"]),
    });
    const destroyer = await kv.tokenWith({ destroyer: policy("secret/destroy/*", ["update"]) });
    const body = { versions: [1] };
    expect((await kv.call("POST", "secret/destroy/app", body, dataOnly)).status).toBe(403);
    expect((await kv.call("POST", "secret/destroy/app", body, destroyer)).status).toBe(204);
    expect((await kv.call("DELETE", "secret/metadata/app", undefined, dataOnly)).status).toBe(403);
  });
});
