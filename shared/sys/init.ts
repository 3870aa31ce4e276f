/**
 * Initialization: the one moment a root token is created. It happens once per store, in
 * the same atomic write as the marker that says it happened, so two racing inits cannot
 * both produce a root token. There is deliberately no unauthenticated HTTP endpoint for
 * it: operators run `coffer operator init` with access to the store and the key.
 */
import type { Broker } from "../broker.ts";
import { CofferError } from "../errors.ts";

const INIT_KEY = { pk: "sys", sk: "init" };

export async function isInitialized(broker: Broker): Promise<boolean> {
  return (await broker.store.get(INIT_KEY)) !== undefined;
}

export interface InitResult {
  rootToken: string;
  accessor: string;
}

/**
 * Creates the root token and the default `secret/` KV v2 mount. Throws ERR_INVALID_REQUEST
 * when the store is already initialized. `rootToken` fixes the value (dev mode only).
 */
export async function initialize(broker: Broker, options: { rootToken?: string } = {}): Promise<InitResult> {
  if (await isInitialized(broker))
    throw new CofferError("ERR_INVALID_REQUEST", "Coffer is already initialized");
  // Everything else first: once the root token is written, init cannot be run again, so a
  // failure after it would leave a store whose root token nobody ever saw.
  const mounts = await broker.mounts.list();
  if (!mounts.some((mount) => mount.path === "secret/")) {
    await broker.mounts.enable({
      path: "secret/",
      type: "kv",
      description: "key/value secret storage",
      options: { version: "2" },
    });
  }
  await broker.policies.ensureDefault();
  let created: Awaited<ReturnType<Broker["tokens"]["create"]>>;
  try {
    created = await broker.tokens.create(
      { policies: ["root"], displayName: "root", path: "auth/token/root", ttl: 0, token: options.rootToken },
      [
        {
          op: "put",
          item: { ...INIT_KEY, initialized_at: new Date(broker.now()).toISOString() },
          condition: { exists: false },
        },
      ],
    );
  } catch (error) {
    if (error instanceof CofferError && error.code === "ERR_CONDITION_FAILED") {
      throw new CofferError("ERR_INVALID_REQUEST", "Coffer is already initialized");
    }
    throw error;
  }
  return { rootToken: created.token, accessor: created.record.accessor };
}
