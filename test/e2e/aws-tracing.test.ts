/**
 * Tracing as a traced function runs it (COFFER_TRACING=true under Lambda's active tracing):
 * the deployed composition on moto, its every DynamoDB and KMS call a subsegment sent to
 * the X-Ray daemon, played here by a UDP socket on loopback (Lambda's daemon is outside
 * the product), and a PostgreSQL use one subsegment that marks a failure without its text.
 * No segment carries a token, a secret or a password.
 */
import { spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../functions/api-handler.ts";
import { awsConfigFromEnv, createAwsBroker } from "../../functions/aws-broker.ts";
import { tracingFromEnv } from "../../functions/tracing.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import { initialize } from "../../shared/sys/init.ts";
import { mountAwsOnMoto } from "../support/aws-engine-fixture.ts";
import { ingressEvent, readResult } from "../support/ingress-events.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

const SECRET = "traced-plaintext-must-not-appear-41ab";
const DB_PASSWORD = "pg-password-must-not-appear-93fe";
const TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793";
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface SegmentDocument {
  name: string;
  namespace?: string;
  trace_id?: string;
  fault?: boolean;
  aws?: { operation?: string };
  cause?: unknown;
}

describe.skipIf(!motoAvailable())("a traced function on moto", () => {
  const moto = useMoto();
  let daemon: Socket;
  const received: string[] = [];

  beforeAll(async () => {
    daemon = createSocket("udp4");
    daemon.on("message", (message) => received.push(message.toString("utf8")));
    await new Promise<void>((resolve) => daemon.bind(0, "127.0.0.1", resolve));
    // What Lambda's runtime sets for a function with active tracing, read as the SDK loads.
    process.env.AWS_EXECUTION_ENV = "AWS_Lambda_nodejs22.x";
    process.env.LAMBDA_TASK_ROOT = "/var/task";
    process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${(daemon.address() as AddressInfo).port}`;
    process.env._X_AMZN_TRACE_ID = `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`;
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  });

  afterAll(async () => {
    daemon?.close();
    for (const name of [
      "AWS_EXECUTION_ENV",
      "LAMBDA_TASK_ROOT",
      "AWS_XRAY_DAEMON_ADDRESS",
      "_X_AMZN_TRACE_ID",
    ]) {
      delete process.env[name];
    }
  });

  /** The subsegments the daemon has received: each datagram is a header line and a document. */
  const subsegments = (): SegmentDocument[] =>
    received.map((datagram) => JSON.parse(datagram.slice(datagram.indexOf("\n") + 1)) as SegmentDocument);

  async function until(done: () => boolean): Promise<void> {
    // UDP datagrams arrive after the call that sent them returns.
    for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it("refuses a COFFER_TRACING that is neither true nor false, and loads nothing when off", async () => {
    await expect(tracingFromEnv({ COFFER_TRACING: "yes" })).rejects.toThrow(
      'COFFER_TRACING: "yes" must be true or false',
    );
    expect(await tracingFromEnv({})).toBeUndefined();
    expect(await tracingFromEnv({ COFFER_TRACING: "false" })).toBeUndefined();
  });

  it("records each DynamoDB, KMS, STS and IAM call of a request as a subsegment of the invocation's trace", async () => {
    const clientConfig = motoClientConfig(moto);
    await createTable(new DynamoDBClient(clientConfig), "coffer-traced");
    const key = await new KMSClient(clientConfig).send(new CreateKeyCommand({}));
    const tracing = await tracingFromEnv({ COFFER_TRACING: "true" });
    const config = awsConfigFromEnv({
      COFFER_TABLE: "coffer-traced",
      COFFER_KMS_KEY_ID: key.KeyMetadata?.KeyId,
      COFFER_REGION: moto.region,
      COFFER_AWS_ENDPOINT: moto.endpoint,
    });
    const { rootToken } = await initialize(await createAwsBroker({ ...config, auditWriters: [() => {}] }));
    const handler = createApiHandler(
      await createAwsBroker({ ...config, auditWriters: [() => {}], tracing }),
      {
        logError: () => {},
      },
    );
    received.length = 0;
    const send = async (method: string, path: string, body?: unknown) => {
      const event = ingressEvent("function-url", {
        method,
        path: `/v1/${path}`,
        headers: { "x-vault-token": rootToken, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: a Lambda context has more than the handler reads.
      const result = await handler(event as any, { awsRequestId: "traced-1" } as any);
      return readResult(result as Record<string, unknown>);
    };
    expect((await send("POST", "secret/data/app/db", { data: { password: SECRET } })).status).toBe(200);
    expect((await send("GET", "secret/data/app/db")).body.data.data.password).toBe(SECRET);
    await mountAwsOnMoto((method, path, body) => send(method, path, body), moto);
    const creds = await send("GET", "aws/creds/deploy");
    expect(creds.status).toBe(200);
    expect((await send("PUT", "sys/leases/revoke", { lease_id: creds.body.lease_id })).status).toBe(204);

    await until(() => subsegments().some((s) => s.name === "IAM"));
    const recorded = subsegments();
    expect(recorded.filter((s) => s.name === "STS").map((s) => s.aws?.operation)).toEqual(["AssumeRole"]);
    expect(recorded.filter((s) => s.name === "IAM").map((s) => s.aws?.operation)).toContain("PutRolePolicy");
    expect(recorded.every((s) => s.trace_id === TRACE_ID)).toBe(true);
    expect(recorded.filter((s) => s.name === "KMS").map((s) => s.aws?.operation)).toContain("Decrypt");
    const dynamodb = recorded.filter((s) => s.name === "DynamoDB").map((s) => s.aws?.operation);
    expect(dynamodb).toEqual(expect.arrayContaining(["TransactWriteItems", "GetItem"]));
    expect(recorded.every((s) => s.namespace === "aws")).toBe(true);
    const sent = received.join("");
    const { secret_key, security_token } = creds.body.data;
    for (const forbidden of [rootToken, SECRET, secret_key, security_token])
      expect(sent).not.toContain(forbidden);
  });

  it("records a use of a PostgreSQL connection, and its failure without the failure's text", async () => {
    const tracing = await tracingFromEnv({ COFFER_TRACING: "true" });
    received.length = 0;
    expect(await tracing!.call("PostgreSQL", async () => "done")).toBe("done");
    await expect(
      tracing!.call("PostgreSQL", async () => {
        throw new Error(`password authentication failed: ${DB_PASSWORD}`);
      }),
    ).rejects.toThrow(DB_PASSWORD);
    // Datagrams of the previous test may still arrive.
    const postgres = () => subsegments().filter((s) => s.name === "PostgreSQL");
    await until(() => postgres().length >= 2);
    const [ok, failed] = postgres();
    expect(ok).toMatchObject({ name: "PostgreSQL", namespace: "remote", trace_id: TRACE_ID });
    expect(ok?.fault).toBeUndefined();
    expect(failed).toMatchObject({ name: "PostgreSQL", fault: true });
    expect(failed?.cause).toBeUndefined();
    expect(received.join("")).not.toContain(DB_PASSWORD);
  });

  it("leaves calls outside an invocation (the initialization's warm-up) untraced, without an error line", () => {
    // A process of its own: the X-Ray SDK logs through a console it holds from its loading.
    const script = `
      import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
      import { tracingFromEnv } from ${JSON.stringify(join(ROOT, "functions/tracing.ts"))};
      const tracing = await tracingFromEnv({ COFFER_TRACING: "true" });
      const client = tracing.awsClient(new DynamoDBClient(${JSON.stringify(motoClientConfig(moto))}));
      await client.send(new ListTablesCommand({}));
      await tracing.call("PostgreSQL", async () => undefined);
      console.log("done");`;
    // During the initialization Lambda has set no trace id: there is no segment to join.
    // (The tracers of the tests above set AWS_XRAY_CONTEXT_MISSING in this process.)
    const { _X_AMZN_TRACE_ID: _, AWS_XRAY_CONTEXT_MISSING: __, ...lambdaInitialization } = process.env;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { ...lambdaInitialization, NODE_NO_WARNINGS: "1" },
      encoding: "utf8",
    });
    expect({ status: child.status, stdout: child.stdout.trim() }).toEqual({ status: 0, stdout: "done" });
    expect(child.stderr).not.toMatch(/trace data|segment/i);
  });
});
