/**
 * The transit engine: encryption as a service with Vault's transit API. Applications send
 * plaintext and get ciphertext (and back); Coffer stores only the keys, sealed, never the
 * data. The engine is its path families, each in its own file.
 */
import type { EngineFactory } from "../engine.ts";
import { forgetMount } from "./mount-cache.ts";
import { configKeysRoute } from "./path-config-keys.ts";
import { datakeyRoute } from "./path-datakey.ts";
import { decryptRoute } from "./path-decrypt.ts";
import { encryptRoute } from "./path-encrypt.ts";
import { keysRoutes } from "./path-keys.ts";
import { keyConfigRoute } from "./path-keys-config.ts";
import { rewrapRoute } from "./path-rewrap.ts";
import { rotateRoute } from "./path-rotate.ts";
import { trimRoute } from "./path-trim.ts";
import { openTransitMount } from "./transit-mount.ts";

export { rotateDueTransitKeys } from "./auto-rotate.ts";
export { mountDevTransit } from "./dev-mount.ts";

export const createTransitEngine: EngineFactory = (mount, broker) => {
  const transit = openTransitMount(broker, mount);
  return {
    routes: [
      ...keysRoutes(transit),
      keyConfigRoute(transit),
      rotateRoute(transit),
      trimRoute(transit),
      encryptRoute(transit),
      decryptRoute(transit),
      rewrapRoute(transit),
      datakeyRoute(transit),
      configKeysRoute(transit),
    ],
    async purge() {
      await transit.storage.purge();
      forgetMount(broker, mount.uuid);
    },
  };
};
