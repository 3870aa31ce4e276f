/**
 * Every backend the broker knows, each loaded on first use: a Lambda cold start that
 * serves only KV reads never parses the code of the other engines. The edges hand this
 * registry to the broker; nothing inside an engine's folder is imported by name anywhere
 * else.
 */
import type { EngineRegistry } from "./broker.ts";

export const ENGINES: EngineRegistry = {
  types: {
    kv: { load: async () => (await import("./engines/kv/index.ts")).createKvEngine },
    // The deny lists belong to IAM roles, not to one mount: every aws mount shares them.
    aws: {
      load: async () => (await import("./engines/aws/index.ts")).createAwsEngine,
      sharedPartitions: ["aws-deny"],
    },
    transit: { load: async () => (await import("./engines/transit/index.ts")).createTransitEngine },
    database: { load: async () => (await import("./engines/database/index.ts")).createDatabaseEngine },
    kubernetes: {
      load: async () => (await import("./auth/kubernetes/kubernetes-engine.ts")).createKubernetesEngine,
    },
  },
  builtin: {
    system: async () => (await import("./sys/sys-engine.ts")).createSysEngine,
    token: async () => (await import("./auth/tokens/token-engine.ts")).createTokenEngine,
  },
};
