import type { EngineFactory } from "../engine.ts";
import { createKvV2Engine } from "./kv-v2.ts";

/** KV mounts: the version comes from the mount's options, as in Vault. */
export const createKvEngine: EngineFactory = (mount, broker) => createKvV2Engine(mount, broker);
