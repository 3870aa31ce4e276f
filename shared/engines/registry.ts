/**
 * Every mount type the broker knows, each loaded on first use: a Lambda cold start that
 * serves only KV reads never parses the code of the other engines.
 */
import type { EngineLoader } from "../broker.ts";

export const ENGINES: Readonly<Record<string, EngineLoader>> = {
  system: async () => (await import("../sys/sys-engine.ts")).createSysEngine,
  token: async () => (await import("../auth/tokens/token-engine.ts")).createTokenEngine,
  kv: async () => (await import("./kv/index.ts")).createKvEngine,
  aws: async () => (await import("./aws/index.ts")).createAwsEngine,
  kubernetes: async () => (await import("../auth/kubernetes/kubernetes-engine.ts")).createKubernetesEngine,
  transit: async () => (await import("./transit/index.ts")).createTransitEngine,
  database: async () => (await import("./database/index.ts")).createDatabaseEngine,
};
