/**
 * `coffer operator export` and `import` as an operator runs them: between two DynamoDB
 * deployments on moto, each with its own KMS root key, the archive sealed to a third KMS
 * key; and between two data directories with a passphrase file. Both targets then answer
 * as their sources did; the archive is a new file of mode 0600; both commands are
 * audited; a second import changes nothing.
 */
import { statSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalBroker } from "../../cli/local-broker.ts";
import { createAwsBroker } from "../../functions/aws-broker.ts";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import { initialize } from "../../shared/sys/init.ts";
import { apiCaller } from "../support/http.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { runCli } from "./cli-harness.ts";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "coffer-archive-cli-"));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

const call = (broker: Broker, token: string, method: string, path: string, body?: unknown) =>
  apiCaller(createApp(broker, { logError: () => {} }), token)(method, path, body);

/** Two versions of a KV v2 secret, a policy and a transit ciphertext. */
async function populate(broker: Broker, token: string): Promise<string> {
  await call(broker, token, "POST", "secret/data/app/db", { data: { password: "first" } });
  await call(broker, token, "POST", "secret/data/app/db", { data: { password: "second" } });
  await call(broker, token, "POST", "sys/policies/acl/app", {
    policy: 'path "secret/*" { capabilities = ["read"] }',
  });
  await call(broker, token, "POST", "sys/mounts/transit", { type: "transit" });
  await call(broker, token, "POST", "transit/keys/k", {});
  return (await call(broker, token, "POST", "transit/encrypt/k", { plaintext: btoa("hello") })).body.data
    .ciphertext;
}

async function expectSame(broker: Broker, token: string, ciphertext: string) {
  const v1 = await call(broker, token, "GET", "secret/data/app/db?version=1");
  expect(v1.body.data.data).toEqual({ password: "first" });
  const latest = await call(broker, token, "GET", "secret/data/app/db");
  expect(latest.body.data).toMatchObject({ data: { password: "second" }, metadata: { version: 2 } });
  expect((await call(broker, token, "GET", "sys/policies/acl/app")).body.data.policy).toContain("secret/*");
  const decrypted = await call(broker, token, "POST", "transit/decrypt/k", { ciphertext });
  expect(atob(decrypted.body.data.plaintext)).toBe("hello");
}

describe.skipIf(!motoAvailable())("export and import between DynamoDB deployments on moto", () => {
  const moto = useMoto();
  let env: Record<string, string>;
  const keys: string[] = [];

  beforeAll(async () => {
    const config = motoClientConfig(moto);
    const kms = new KMSClient(config);
    for (let n = 0; n < 3; n++) keys.push((await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
    kms.destroy();
    const dynamodb = new DynamoDBClient(config);
    await createTable(dynamodb, "source");
    await createTable(dynamodb, "target");
    dynamodb.destroy();
    env = {
      HOME: home,
      AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
      COFFER_REGION: moto.region,
      COFFER_AWS_ENDPOINT: moto.endpoint,
    };
  }, 60_000);

  const aws = (table: string, key: string) =>
    createAwsBroker({
      tableName: table,
      kmsKeyId: key,
      region: moto.region,
      endpoint: moto.endpoint,
      auditWriters: [],
    });

  it("carries a deployment to another table and root key, sealed to a KMS key, audited", async () => {
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    const source = await aws("source", keys[0]!);
    const { rootToken } = await initialize(source);
    const ciphertext = await populate(source, rootToken);

    const archive = join(home, "deployment.coffer");
    const exported = await runCli(
      [
        "operator",
        "export",
        "--store",
        "dynamodb",
        "--output-file",
        archive,
        "--kms-key",
        keys[2]!,
        "--include-tokens",
      ],
      { env: { ...env, COFFER_TABLE: "source", COFFER_KMS_KEY_ID: keys[0]! } },
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^Exported \d+ items and 1 keyring versions to /);
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    expect(exported.stderr).toContain('"path":"sys/storage/export"');

    const targetEnv = { ...env, COFFER_TABLE: "target", COFFER_KMS_KEY_ID: keys[1]! };
    const imported = await runCli(["operator", "import", "--store", "dynamodb", "--input-file", archive], {
      env: targetEnv,
    });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^Imported \d+ items from archive /);
    expect(imported.stderr).toContain('"path":"sys/storage/import"');

    await expectSame(await aws("target", keys[1]!), rootToken, ciphertext);

    // generate-root on DynamoDB: the imported root token was never registered (made by
    // initialize here, not by the command), so a new one is made, and works.
    const rootFile = join(home, "dynamodb-root.json");
    const generated = await runCli(
      ["operator", "generate-root", "--store", "dynamodb", "--output-file", rootFile],
      { env: targetEnv },
    );
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stderr).toContain('"path":"sys/generate-root"');
    const { root_token } = JSON.parse(await readFile(rootFile, "utf8"));
    await expectSame(await aws("target", keys[1]!), root_token, ciphertext);
    const refused = await runCli(["operator", "generate-root", "--store", "dynamodb"], { env: targetEnv });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/a root token is still valid/);

    const again = await runCli(["operator", "import", "--store", "dynamodb", "--input-file", archive], {
      env: targetEnv,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already imported here: nothing to do/);
  });
});

describe("export and import between data directories, with a passphrase file", () => {
  it("round-trips, refuses a second sealing choice, and names a wrong passphrase", async () => {
    const sourceDir = join(home, "source");
    const targetDir = join(home, "target");
    const source = await createLocalBroker({ dataDir: sourceDir });
    const { rootToken } = await initialize(source);
    const ciphertext = await populate(source, rootToken);
    await source.store.close();

    const passphraseFile = join(home, "passphrase");
    writeFileSync(passphraseFile, "a long enough passphrase\n", { mode: 0o600 });
    const archive = join(home, "local.coffer");
    const both = await runCli(
      [
        "operator",
        "export",
        "--data-dir",
        sourceDir,
        "--output-file",
        archive,
        "--kms-key",
        "k",
        "--passphrase-file",
        passphraseFile,
      ],
      { env: { HOME: home } },
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/seal the archive to one thing/);

    const exported = await runCli(
      [
        "operator",
        "export",
        "--data-dir",
        sourceDir,
        "--output-file",
        archive,
        "--passphrase-file",
        passphraseFile,
      ],
      { env: { HOME: home } },
    );
    expect(exported.code, exported.stderr).toBe(0);

    const wrong = await runCli(["operator", "import", "--data-dir", targetDir, "--input-file", archive], {
      env: { HOME: home, COFFER_ARCHIVE_PASSPHRASE: "not the passphrase at all" },
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the passphrase does not open this archive/);

    const imported = await runCli(
      [
        "operator",
        "import",
        "--data-dir",
        targetDir,
        "--input-file",
        archive,
        "--passphrase-file",
        passphraseFile,
      ],
      { env: { HOME: home } },
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(
      /holds no tokens: make a root token with `coffer operator generate-root`/,
    );
    const rooted = await runCli(["operator", "generate-root", "--data-dir", targetDir], {
      env: { HOME: home },
    });
    expect(rooted.code, rooted.stderr).toBe(0);
    const newRoot = /^Root token: (\S+)$/m.exec(rooted.stdout)![1]!;

    const target = await createLocalBroker({ dataDir: targetDir });
    await expectSame(target, newRoot, ciphertext);
    await target.store.close();
    const audit = await readFile(join(targetDir, "audit.log"), "utf8");
    expect(audit).toContain('"path":"sys/storage/import"');
  });
});
