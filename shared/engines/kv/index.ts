import type { EngineFactory } from "../engine.ts";
import { createKvV1Engine } from "./kv-v1.ts";
import { createKvV2Engine } from "./kv-v2.ts";

/** KV mounts: the version comes from the mount's options, as in Vault ("1" when unset). */
export const createKvEngine: EngineFactory = (context) =>
  context.mount.options.version === "2" ? createKvV2Engine(context) : createKvV1Engine(context);
