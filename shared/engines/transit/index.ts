/**
 * The transit engine: encryption, signing and HMACs as a service with Vault's transit
 * API. Applications send plaintext and get ciphertext (and back), or data and get its
 * signature; Coffer stores only the keys, sealed, never the data. The engine is its path
 * families, each in its own file.
 */
import type { EngineFactory } from "../engine.ts";
import { forgetAll } from "./mount-cache.ts";
import { configKeysRoute } from "./path-config-keys.ts";
import { datakeyRoute } from "./path-datakey.ts";
import { decryptRoute } from "./path-decrypt.ts";
import { encryptRoute } from "./path-encrypt.ts";
import { exportRoute } from "./path-export.ts";
import { hashRoute } from "./path-hash.ts";
import { hmacRoute } from "./path-hmac.ts";
import { keysRoutes } from "./path-keys.ts";
import { keyConfigRoute } from "./path-keys-config.ts";
import { randomRoute } from "./path-random.ts";
import { rewrapRoute } from "./path-rewrap.ts";
import { rotateRoute } from "./path-rotate.ts";
import { signRoute } from "./path-sign.ts";
import { trimRoute } from "./path-trim.ts";
import { verifyRoute } from "./path-verify.ts";
import { rotateDueKeys } from "./periodic-rotation.ts";
import { openTransitMount } from "./transit-mount.ts";

export const createTransitEngine: EngineFactory = (context) => {
  const transit = openTransitMount(context);
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
      signRoute(transit),
      verifyRoute(transit),
      hmacRoute(transit),
      exportRoute(transit),
      hashRoute(),
      randomRoute(),
    ],
    periodic: (deadline) => rotateDueKeys(transit, deadline),
    async purge() {
      await transit.storage.purge();
      forgetAll(transit.cache);
    },
  };
};
