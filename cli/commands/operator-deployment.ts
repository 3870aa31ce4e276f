/**
 * A deployment as export and import see it: the raw store (every item as stored, and a
 * whole-table scan), the root key both as a KeyProvider and as a KeyWrapper, KMS for an
 * archive sealed to a KMS key, and a broker over the same store for the audit log.
 * Loaded only when export or import runs.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { awsConfigFromEnv } from "../../functions/aws-broker.ts";
import type { AuditWriter } from "../../shared/audit/audit-log.ts";
import { awsRetryConfig } from "../../shared/aws-retry.ts";
import { type Broker, createBroker } from "../../shared/broker.ts";
import type { KeyProvider, KeyWrapper } from "../../shared/crypto/key-provider.ts";
import { createKmsKeyProvider } from "../../shared/crypto/kms.ts";
import { createKmsKeyWrapper } from "../../shared/crypto/kms-wrap.ts";
import { createLocalKeyProvider } from "../../shared/crypto/local.ts";
import { loadOrCreateRootKey } from "../../shared/crypto/local-root-key.node.ts";
import { ENGINES } from "../../shared/registry.ts";
import { createDynamoDbStore } from "../../shared/store/dynamodb.ts";
import { createDynamoDbScanner } from "../../shared/store/dynamodb-scan.ts";
import type { ItemScanner, ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { fileAuditWriter } from "../local-broker.ts";
import { LocalError } from "./exit-codes.ts";
import type { OperatorStoreOptions } from "./operator.ts";

export interface OperatorDeployment {
  store: ItemStore & ItemScanner;
  keyProvider: KeyProvider;
  keyWrapper: KeyWrapper;
  /** A provider for another KMS key (an archive sealed to it), with the same client. */
  kmsProvider(keyId: string): KeyProvider;
  broker: Broker;
  close(): Promise<void>;
}

function kmsClient(): KMSClient {
  const env = process.env;
  return new KMSClient({
    region: env.COFFER_REGION || env.AWS_REGION || undefined,
    endpoint: env.COFFER_AWS_ENDPOINT || undefined,
    ...awsRetryConfig(),
  });
}

export async function openOperatorDeployment(options: OperatorStoreOptions): Promise<OperatorDeployment> {
  let store: ItemStore & ItemScanner;
  let keyProvider: KeyProvider;
  let keyWrapper: KeyWrapper;
  let auditWriter: AuditWriter;
  let kms: KMSClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  if (options.store === "sqlite") {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const local = createLocalKeyProvider(await loadOrCreateRootKey(join(options.dataDir, "root.key")));
    store = openSqliteStore({ path: join(options.dataDir, "coffer.db") });
    keyProvider = local;
    keyWrapper = local;
    auditWriter = fileAuditWriter(options.auditLog ?? join(options.dataDir, "audit.log"));
  } else if (options.store === "dynamodb") {
    const config = awsConfigFromEnv();
    const clientConfig = { region: config.region, endpoint: config.endpoint, ...awsRetryConfig() };
    dynamodb = new DynamoDBClient(clientConfig);
    kms = new KMSClient(clientConfig);
    store = {
      ...createDynamoDbStore({ client: dynamodb, tableName: config.tableName }),
      ...createDynamoDbScanner({ client: dynamodb, tableName: config.tableName }),
    };
    keyProvider = createKmsKeyProvider({ client: kms, keyId: config.kmsKeyId });
    keyWrapper = createKmsKeyWrapper({ client: kms, keyId: config.kmsKeyId });
    auditWriter = options.auditLog
      ? fileAuditWriter(options.auditLog)
      : (line) => void process.stderr.write(`${line}\n`);
  } else {
    throw new LocalError(`unknown store "${options.store}": use sqlite or dynamodb`);
  }
  const broker = await createBroker({
    store,
    storage: options.store,
    keyProvider,
    engines: ENGINES,
    auditWriters: [auditWriter],
  });
  let archiveKms: KMSClient | undefined;
  return {
    store,
    keyProvider,
    keyWrapper,
    kmsProvider(keyId) {
      archiveKms ??= kms ?? kmsClient();
      return createKmsKeyProvider({ client: archiveKms, keyId });
    },
    broker,
    async close() {
      await store.close();
      archiveKms?.destroy();
      kms?.destroy();
      dynamodb?.destroy();
    },
  };
}
