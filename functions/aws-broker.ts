/**
 * The broker as deployed: DynamoDB for storage, KMS as the root of the key hierarchy,
 * audit records to CloudWatch Logs. Shared by the Lambda entry points and the CLI's
 * operator commands, which act on the same table and key.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { type AuditWriter, consoleAuditWriter } from "../shared/audit/audit-log.ts";
import { awsRetryConfig } from "../shared/aws-retry.ts";
import { type Broker, createBroker } from "../shared/broker.ts";
import { createKmsKeyProvider } from "../shared/crypto/kms.ts";
import { nodeSymmetricCrypto } from "../shared/crypto/symmetric.node.ts";
import type { Log } from "../shared/log.ts";
import type { HomeRegion } from "../shared/mounts/request-region.ts";
import { ENGINES } from "../shared/registry.ts";
import type { RejectedItem } from "../shared/store/authenticated-store.ts";
import { createDynamoDbStore } from "../shared/store/dynamodb.ts";
import { homeRegionStore } from "../shared/store/home-region-store.ts";
import type { ItemStore } from "../shared/store/item-store.ts";
import { noTracing, type Tracing } from "../shared/tracing.ts";
import { countedClient } from "./call-counts.ts";

export interface AwsBrokerConfig {
  tableName: string;
  kmsKeyId: string;
  region?: string;
  /** An endpoint override for emulators (moto) or private endpoints. */
  endpoint?: string;
  /**
   * The deployment's home region, when it spans two (COFFER_HOME_REGION). In any other
   * region, requests that need exact conditional writes are served on the home region's
   * table (createHomeBroker); the home region itself serves everything.
   */
  homeRegion?: string;
  clusterName?: string;
  /** Where audit records go; CloudWatch Logs (stdout) unless given. */
  auditWriters?: readonly AuditWriter[];
  /** Hash numbers and booleans in audit records too (Vault leaves them in clear). */
  auditHashNonStrings?: boolean;
  /** Ready-made clients, for callers that instrument them (benchmarks count KMS calls). */
  clients?: { dynamodb?: DynamoDBClient; kms?: KMSClient; homeDynamodb?: DynamoDBClient };
  /** Where background work logs; the functions write raw JSON lines (functions/log-lines.ts). */
  log?: Log;
  /** Where items that fail authentication are reported; a JSON line on stderr unless given. */
  onRejectedItem?: (rejected: RejectedItem) => void;
  /** Records the calls to DynamoDB, KMS, STS, IAM and PostgreSQL (functions/tracing.ts); none unless given. */
  tracing?: Tracing;
}

/** Reads the configuration the infrastructure sets on the functions; names every missing variable. */
export function awsConfigFromEnv(env: Record<string, string | undefined> = process.env): AwsBrokerConfig {
  const missing = ["COFFER_TABLE", "COFFER_KMS_KEY_ID"].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing configuration: ${missing.join(", ")}`);
  const hashNonStrings = env.COFFER_AUDIT_HASH_NON_STRINGS || "false";
  if (hashNonStrings !== "true" && hashNonStrings !== "false") {
    throw new Error(`COFFER_AUDIT_HASH_NON_STRINGS: "${hashNonStrings}" must be true or false`);
  }
  return {
    tableName: env.COFFER_TABLE as string,
    kmsKeyId: env.COFFER_KMS_KEY_ID as string,
    region: env.COFFER_REGION || env.AWS_REGION || undefined,
    endpoint: env.COFFER_AWS_ENDPOINT || undefined,
    clusterName: env.COFFER_CLUSTER_NAME || undefined,
    homeRegion: env.COFFER_HOME_REGION || undefined,
    auditHashNonStrings: hashNonStrings === "true",
  };
}

export async function createAwsBroker(config: AwsBrokerConfig): Promise<Broker> {
  const tracing = config.tracing ?? noTracing;
  const store = createDynamoDbStore({
    client: tracing.awsClient(
      countedClient(config.clients?.dynamodb ?? new DynamoDBClient(clientConfigOf(config)), "store"),
    ),
    tableName: config.tableName,
  });
  return brokerOn(store, config);
}

/**
 * The broker on the home region's replica of the table, for a region that is not home;
 * undefined in the home region. It unwraps the keyring with this region's replica of the
 * multi-Region key (the same key material), so only DynamoDB calls cross regions.
 */
export async function createHomeBroker(config: AwsBrokerConfig): Promise<HomeRegion | undefined> {
  const name = config.homeRegion;
  if (name === undefined || name === config.region) return undefined;
  const client = (config.tracing ?? noTracing).awsClient(
    countedClient(
      config.clients?.homeDynamodb ??
        new DynamoDBClient({ ...clientConfigOf(config), ...HOME_REGION_CALLS, region: name }),
      "store",
    ),
  );
  const store = homeRegionStore(createDynamoDbStore({ client, tableName: config.tableName }), name);
  return { broker: await brokerOn(store, config), name };
}

/**
 * A home region that drops packets instead of refusing them must cost a request a few
 * seconds and a 503, not the function's whole timeout: calls to it give up after 1 s
 * without a connection or 2 s without an answer, and are tried twice.
 */
const HOME_REGION_CALLS = {
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  ...awsRetryConfig(2),
};

const clientConfigOf = (config: AwsBrokerConfig) => ({
  region: config.region,
  endpoint: config.endpoint,
  ...awsRetryConfig(),
});

function brokerOn(store: ItemStore, config: AwsBrokerConfig): Promise<Broker> {
  const tracing = config.tracing ?? noTracing;
  return createBroker({
    store,
    storage: "dynamodb",
    keyProvider: createKmsKeyProvider({
      client: tracing.awsClient(
        countedClient(config.clients?.kms ?? new KMSClient(clientConfigOf(config)), "kms"),
      ),
      keyId: config.kmsKeyId,
      symmetric: nodeSymmetricCrypto,
    }),
    engines: ENGINES,
    auditWriters: config.auditWriters ?? [consoleAuditWriter],
    auditHashNonStrings: config.auditHashNonStrings,
    clusterName: config.clusterName,
    log: config.log,
    onRejectedItem: config.onRejectedItem,
    tracing,
  });
}
