/**
 * generate-root (shared/operator/root-tokens.ts): a new root token from the store and the
 * root key alone, audited before it acts, refused while a registered root token is valid
 * unless forced, and never two from one race.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Broker } from "../../../shared/broker.ts";
import { CofferError } from "../../../shared/errors.ts";
import { generateRoot, registerRootToken, validRootTokens } from "../../../shared/operator/root-tokens.ts";
import { initialize } from "../../../shared/sys/init.ts";
import { type Deployment, openDeployment, type Process } from "../../support/deployment.ts";

/** Not initialized: each test initializes it as it needs. */
let deployment: Deployment;
let operator: Process;

beforeEach(async () => {
  deployment = await openDeployment({ initialize: false });
  operator = deployment;
});

afterEach(async () => {
  await deployment.close();
});

/** `operator init` as the command runs it: the first root token, registered. */
async function init(broker: Broker) {
  const first = await initialize(broker);
  await registerRootToken(broker, first.accessor, "init");
  return first;
}

async function refusal(promise: Promise<unknown>): Promise<CofferError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CofferError);
  return error as CofferError;
}

describe("generate-root", () => {
  it("refuses an uninitialized store", async () => {
    const error = await refusal(generateRoot(operator.broker));
    expect(error.message).toMatch(/not initialized/);
  });

  it("refuses while the first root token is valid, naming it, and mints one once it is revoked", async () => {
    const first = await init(operator.broker);
    const refused = await refusal(generateRoot(operator.broker));
    expect(refused.code).toBe("ERR_INVALID_REQUEST");
    expect(refused.message).toContain(first.accessor);

    expect((await operator.call("POST", "auth/token/revoke-self", undefined, first.rootToken)).status).toBe(
      204,
    );
    const generated = await generateRoot(operator.broker);
    expect(generated.othersValid).toEqual([]);

    // A working root token, as every other process of the deployment sees it.
    const api = await deployment.process();
    const lookup = await api.call("GET", "auth/token/lookup-self", undefined, generated.rootToken);
    expect(lookup.status).toBe(200);
    expect(lookup.body.data).toMatchObject({ policies: ["root"], accessor: generated.accessor, ttl: 0 });
    expect((await validRootTokens(operator.broker)).map((root) => root.accessor)).toEqual([
      generated.accessor,
    ]);
  });

  it("mints another with force, reporting the ones still valid", async () => {
    const first = await init(operator.broker);
    const generated = await generateRoot(operator.broker, { force: true });
    expect(generated.othersValid).toEqual([
      expect.objectContaining({ accessor: first.accessor, createdBy: "init" }),
    ]);
    expect((await validRootTokens(operator.broker)).map((root) => root.accessor).sort()).toEqual(
      [first.accessor, generated.accessor].sort(),
    );
  });

  it("audits the attempt before acting and its outcome after, without the token", async () => {
    await init(operator.broker);
    await refusal(generateRoot(operator.broker));
    const generated = await generateRoot(operator.broker, { force: true });
    const records = operator.audit.filter(
      (record) => (record.request as { path: string }).path === "sys/generate-root",
    );
    expect(records.map((record) => [record.type, (record.response as { status: number })?.status])).toEqual([
      ["request", undefined],
      ["response", 400],
      ["request", undefined],
      ["response", 200],
    ]);
    expect(JSON.stringify(operator.audit)).not.toContain(generated.rootToken);
    expect(JSON.stringify(records[3])).not.toContain(generated.accessor);
  });

  it("does nothing when its audit record cannot be written", async () => {
    await init(operator.broker);
    const failingAudit = await deployment.process();
    failingAudit.auditFails = true;
    await expect(generateRoot(failingAudit.broker, { force: true })).rejects.toThrow(
      /audit device unavailable/,
    );
    expect(await validRootTokens(operator.broker)).toHaveLength(1);
  });

  it("lets one of two racing generations through", async () => {
    const first = await init(operator.broker);
    await operator.call("POST", "auth/token/revoke-self", undefined, first.rootToken);
    const other = await deployment.process();
    const results = await Promise.allSettled([generateRoot(operator.broker), generateRoot(other.broker)]);
    const made = results.filter((result) => result.status === "fulfilled");
    const failed = results.filter((result) => result.status === "rejected");
    expect(made).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(await validRootTokens(operator.broker)).toHaveLength(1);
  });

  it("forgets registered root tokens once they are revoked or expired", async () => {
    const first = await init(operator.broker);
    await operator.call("POST", "auth/token/revoke-self", undefined, first.rootToken);
    expect(await validRootTokens(operator.broker)).toEqual([]);
    const left = await deployment.store.query({ pk: "root-tokens" });
    expect(left.items.map((item) => item.sk)).toEqual([]);
  });
});
