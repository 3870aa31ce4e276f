/**
 * STS and IAM clients for a mount, built from its root configuration and reused until the
 * configuration changes (each write gets a new version). Endpoint overrides point them at
 * an emulator or a private endpoint; without static keys the SDK's default chain supplies
 * the function's own credentials.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { RootConfig } from "./root-config.ts";

export interface AwsClients {
  sts: STSClient;
  iam: IAMClient;
}

/** The SDK's own default: three attempts with its retry strategy (throttling included). */
const DEFAULT_ATTEMPTS = 3;

function build(config: RootConfig): AwsClients {
  const credentials =
    config.accessKey !== ""
      ? { accessKeyId: config.accessKey, secretAccessKey: config.secretKey }
      : undefined;
  const maxAttempts = config.maxRetries < 0 ? DEFAULT_ATTEMPTS : config.maxRetries + 1;
  const region = config.region || undefined;
  return {
    sts: new STSClient({
      region: config.stsRegion || region,
      endpoint: config.stsEndpoint || undefined,
      credentials,
      maxAttempts,
    }),
    iam: new IAMClient({ region, endpoint: config.iamEndpoint || undefined, credentials, maxAttempts }),
  };
}

/** One cache per mount: the clients of the newest configuration version seen. */
export function awsClientCache(): (config: RootConfig) => AwsClients {
  let cached: { version: string; clients: AwsClients } | undefined;
  return (config) => {
    // Old clients are not destroyed: a request may still be using them.
    if (cached?.version !== config.version) cached = { version: config.version, clients: build(config) };
    return cached.clients;
  };
}
