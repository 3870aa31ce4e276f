/**
 * Methods and the `list` parameter as Vault reads them: `?list=` with Go's
 * strconv.ParseBool (clients send "1" and "True"), and HEAD on sys/health alone, for load
 * balancers and a Python client's health check.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

describe("methods and ?list= as Vault reads them", () => {
  let subject: Deployment;

  beforeAll(async () => {
    subject = await openDeployment();
    const write = await subject.call("POST", "secret/data/app/db", { data: { user: "app" } });
    expect(write.status).toBe(200);
  });
  afterAll(() => subject?.close());

  it.each(["1", "t", "T", "TRUE", "true", "True"])("lists with ?list=%s", async (value) => {
    const reply = await subject.call("GET", `secret/metadata/app/?list=${value}`);
    expect(reply.status).toBe(200);
    expect(reply.body.data.keys).toEqual(["db"]);
  });

  it.each(["0", "f", "F", "FALSE", "false", "False", ""])("reads with ?list=%s", async (value) => {
    const reply = await subject.call("GET", `secret/metadata/app/db?list=${value}`);
    expect(reply.status).toBe(200);
    expect(reply.body.data.current_version).toBe(1);
  });

  it("refuses a list parameter that is not a boolean, as Vault does", async () => {
    const reply = await subject.call("GET", "secret/metadata/app/?list=yes");
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual(['invalid value for "list": expected a boolean, got "yes"']);
  });

  it("answers HEAD on sys/health with the status alone, without a token", async () => {
    const reply = await subject.app.request("/v1/sys/health", { method: "HEAD" });
    expect(reply.status).toBe(200);
    expect(await reply.text()).toBe("");
    const custom = await subject.app.request("/v1/sys/health?activecode=299", { method: "HEAD" });
    expect(custom.status).toBe(299);
  });

  it("serves HEAD nowhere else, as Vault", async () => {
    const reply = await subject.app.request("/v1/sys/seal-status", {
      method: "HEAD",
      headers: { "X-Vault-Token": subject.rootToken },
    });
    expect(reply.status).toBe(405);
  });
});
