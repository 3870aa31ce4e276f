/**
 * STS and IAM clients for a mount, built from its root configuration and reused until the
 * configuration changes (each write gets a new version). Endpoint overrides point them at
 * an emulator or a private endpoint; without static keys the SDK's default chain supplies
 * the function's own credentials.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { AWS_MAX_ATTEMPTS, awsRetryConfig } from "../../aws-retry.ts";
import type { Item } from "../../store/item-store.ts";
import { noTracing, type Tracing } from "../../tracing.ts";
import { DEFAULT_ROOT_CONFIG, type RootConfig } from "./root-config.ts";

export interface AwsClients {
  sts: STSClient;
  iam: IAMClient;
}

function build(config: RootConfig, tracing: Tracing): AwsClients {
  const credentials =
    config.accessKey !== ""
      ? { accessKeyId: config.accessKey, secretAccessKey: config.secretKey }
      : undefined;
  // Vault's max_retries; -1 is the default policy (shared/aws-retry.ts).
  const attempts = config.maxRetries < 0 ? AWS_MAX_ATTEMPTS : config.maxRetries + 1;
  const region = config.region || undefined;
  return {
    sts: tracing.awsClient(
      new STSClient({
        region: config.stsRegion || region,
        endpoint: config.stsEndpoint || undefined,
        credentials,
        ...awsRetryConfig(attempts),
      }),
    ),
    iam: tracing.awsClient(
      new IAMClient({
        region,
        endpoint: config.iamEndpoint || undefined,
        credentials,
        ...awsRetryConfig(attempts),
      }),
    ),
  };
}

/**
 * One cache per mount: the clients of the last configuration version seen, keyed on the
 * stored item's version so that `load` (which unseals the secret key) runs only when the
 * configuration changed, not on every request.
 */
export function awsClientCache(
  load: (item: Item) => Promise<RootConfig>,
  tracing: Tracing = noTracing,
): (item: Item | undefined) => Promise<AwsClients> {
  let cached: { version: string; clients: AwsClients } | undefined;
  return async (item) => {
    const version = item ? String(item.version) : DEFAULT_ROOT_CONFIG.version;
    if (cached?.version === version) return cached.clients;
    const config = item ? await load(item) : DEFAULT_ROOT_CONFIG;
    // Old clients are not destroyed: a request may still be using them.
    const clients = build(config, tracing);
    cached = { version, clients };
    return clients;
  };
}
