/**
 * The sidecar injector as a Lambda function behind its own HTTPS function URL: a cluster
 * whose API server can reach it (EKS's can) needs nothing installed but the webhook
 * configuration this module prints. The function reads no table and no key; its role may
 * only write its log. Its settings are COFFER_INJECTOR_* variables at deploy time
 * (docs/kubernetes.md), checked before anything is declared.
 */
import { readInjectorOptions } from "../shared/injector/injector-options.ts";
import { WEBHOOK_TIMEOUT_SECONDS, webhookConfiguration } from "../shared/injector/webhook-configuration.ts";
import { createBrokerFunction } from "./broker-function.ts";
import { injectorStatements } from "./function-permissions.ts";
import type { StageSettings } from "./stage-settings.ts";

export const INJECTOR_MEMORY = "512 MB";
/** The API server waits at most the webhook's timeoutSeconds; longer is of no use. */
export const INJECTOR_TIMEOUT = `${WEBHOOK_TIMEOUT_SECONDS} seconds` as const;
/** The injector's settings a deployment may give; the address is the API's own URL. */
const PASSED_SETTINGS = [
  "COFFER_INJECTOR_IMAGE",
  "COFFER_INJECTOR_AUDIENCE",
  "COFFER_INJECTOR_SIDECAR",
  "COFFER_INJECTOR_AUTH_PATH",
  "COFFER_INJECTOR_EXCLUDED_NAMESPACES",
] as const;
export interface InjectorInput {
  settings: StageSettings;
  bundle: string;
  /** The broker's URL, which the injected agents talk to. */
  apiUrl: $util.Input<string>;
  env: Record<string, string | undefined>;
}

export function createInjector(input: InjectorInput) {
  const passed: Record<string, string> = {};
  for (const name of PASSED_SETTINGS) {
    const value = input.env[name]?.trim();
    if (value) passed[name] = value;
  }
  // The deploy stops here on a bad setting, with every problem named.
  const options = readInjectorOptions(passed);
  const { fn, logGroup } = createBrokerFunction("Injector", {
    // Outside any VPC: it reaches nothing, so it needs no network interfaces nor their permissions.
    settings: { ...input.settings, vpc: undefined },
    name: "injector",
    description: "Coffer: the sidecar injector's admission webhook",
    bundle: input.bundle,
    handler: "injector.handler",
    memory: INJECTOR_MEMORY,
    timeout: INJECTOR_TIMEOUT,
    environment: {
      ...passed,
      // The function URL ends in "/": the agents append "v1/...".
      COFFER_INJECTOR_ADDRESS: $output(input.apiUrl).apply((url) => url.replace(/\/+$/, "")),
    },
    statements: (logStreamsArn) => injectorStatements({ logStreamsArn }),
    url: true,
  });
  const webhook = fn.url.apply((url) => webhookConfiguration(url, options.excludedNamespaces));
  return { fn, logGroup, webhook };
}
