/**
 * The API function's handler (functions/api-handler.ts) fed the event each ingress
 * delivers for the same client requests: a function URL, an ALB with and without
 * multi-value headers, and an API Gateway REST API. Writes, the LIST method, `?list=true`,
 * query parameters, percent-encoded paths and dot segments must come out the same through
 * each, and the answer must go back in the shape that ingress reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHandler, createApiHandler } from "../../../functions/api-handler.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { type ClientRequest, type Ingress, ingressEvent, readResult } from "../../support/ingress-events.ts";

const INGRESSES: Ingress[] = ["function-url", "alb", "alb-multi-value", "rest-api"];
const PASSWORD = "correct horse & battery";

describe.each(INGRESSES)("the API handler behind %s", (ingress) => {
  let deployment: Deployment;
  let handler: ApiHandler;
  let rootToken: string;
  const errors: string[] = [];

  beforeAll(async () => {
    deployment = await openDeployment();
    rootToken = deployment.rootToken;
    handler = createApiHandler(deployment.broker, { logError: (message) => errors.push(message) });
  });

  afterAll(async () => {
    await deployment.close();
  });

  async function send(request: ClientRequest) {
    const event = ingressEvent(ingress, {
      ...request,
      headers: { "x-vault-token": rootToken, ...request.headers },
    });
    // biome-ignore lint/suspicious/noExplicitAny: the Lambda context is not read by the app.
    const result = await handler(event as any, {} as any);
    return readResult(result as Record<string, unknown>);
  }

  it("writes a secret at a percent-encoded path, as JSON and base64-encoded", async () => {
    const written = await send({
      method: "POST",
      path: "/v1/secret/data/team%20a/db",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { password: PASSWORD } }),
    });
    expect(written.status).toBe(200);
    expect(written.body.data.version).toBe(1);

    const again = await send({
      method: "PUT",
      path: "/v1/secret/data/team%20a/db",
      body: JSON.stringify({ data: { password: PASSWORD, rotated: "yes" } }),
      base64: true,
    });
    expect(again.status).toBe(200);
    expect(again.body.data.version).toBe(2);
  });

  it("lists with the LIST method", async () => {
    const listed = await send({ method: "LIST", path: "/v1/secret/metadata/" });
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual(["team a/"]);
    const inside = await send({ method: "LIST", path: "/v1/secret/metadata/team%20a/" });
    expect(inside.body.data.keys).toEqual(["db"]);
  });

  it("lists with GET and list=true in the query string", async () => {
    const listed = await send({ method: "GET", path: "/v1/secret/metadata/team%20a", query: "list=true" });
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual(["db"]);
  });

  it("reads query parameters once decoded, however the ingress passed them on", async () => {
    const first = await send({ method: "GET", path: "/v1/secret/data/team%20a/db", query: "version=%31" });
    expect(first.status).toBe(200);
    expect(first.body.data.data).toEqual({ password: PASSWORD });
    expect(first.body.data.metadata.version).toBe(1);

    const latest = await send({ method: "GET", path: "/v1/secret/data/team%20a/db" });
    expect(latest.body.data.data).toEqual({ password: PASSWORD, rotated: "yes" });

    const missing = await send({ method: "GET", path: "/v1/secret/data/team%20a/db", query: "version=7" });
    expect(missing.status).toBe(404);
  });

  it("refuses dot segments, plain or percent-encoded, instead of serving the path they resolve to", async () => {
    for (const path of [
      "/v1/secret/data/team%20a/../team%20a/db",
      "/v1/secret/data/./team%20a/db",
      "/v1/secret/data/%2e%2e/secret/data/team%20a/db",
      "/v1/secret/data/team%20a/%2E/db",
    ]) {
      const refused = await send({ method: "GET", path });
      expect({ path, status: refused.status, errors: refused.body.errors }).toEqual({
        path,
        status: 400,
        errors: ['path must not contain "." or ".." segments'],
      });
    }
  });

  it("decodes an encoded slash into a path separator, as Vault does", async () => {
    const written = await send({
      method: "POST",
      path: "/v1/secret/data/a%2Fb",
      body: JSON.stringify({ data: { k: "v" } }),
    });
    expect(written.status).toBe(200);
    const read = await send({ method: "GET", path: "/v1/secret/data/a/b" });
    expect(read.status).toBe(200);
    expect(read.body.data.data).toEqual({ k: "v" });
  });

  it("answers without a token as Vault does, and always with no-store", async () => {
    const refused = await send({
      method: "GET",
      path: "/v1/secret/data/team%20a/db",
      headers: { "x-vault-token": "" },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers["cache-control"]).toBe("no-store");
    const health = await send({ method: "GET", path: "/v1/sys/health" });
    expect(health.status).toBe(200);
    expect(health.body.initialized).toBe(true);
  });

  it("answers in the shape the ingress reads", async () => {
    const answer = await send({ method: "GET", path: "/v1/sys/health" });
    const multiValue = ingress === "alb-multi-value" || ingress === "rest-api";
    expect(answer.shape).toBe(multiValue ? "multiValueHeaders" : "headers");
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(errors).toEqual([]);
  });
});
