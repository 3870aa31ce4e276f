/**
 * Root tokens an operator mints outside the HTTP API: the first one (`operator init`) and
 * any later one (`operator generate-root`), Vault's way back in when the root token is
 * lost. Vault gates generate-root behind a quorum of unseal keys; Coffer has none, so the
 * gate is what only an operator holds: the right to use the root KMS key (every item the
 * command writes carries a MAC derived from the keyring, which only the key unwraps) and
 * to write the table. Whoever has both can read every secret anyway.
 *
 * Every root token minted this way is registered (pk `root-tokens`, sk its accessor), so a
 * new one is refused while a registered one is still valid, unless forced: a second root
 * token is a second thing to lose. A root token made by another root token through
 * auth/token/create is not registered; docs/deploy.md says to revoke root tokens after use.
 * A counter item changes in the same atomic write as the token, so two generations racing
 * cannot both succeed.
 */
import type { Broker } from "../broker.ts";
import { CofferError } from "../errors.ts";
import { isInitialized } from "../sys/init.ts";
import { audited } from "./operator-audit.ts";

const REGISTRY = "root-tokens";
const GENERATION_KEY = { pk: REGISTRY, sk: "~generation" };

export interface RegisteredRoot {
  accessor: string;
  createdAt: string;
  /** "init" or "generate-root". */
  createdBy: string;
}

export interface GeneratedRoot {
  rootToken: string;
  accessor: string;
  /** Root tokens still valid when this one was made (only with force). */
  othersValid: RegisteredRoot[];
}

/** Records a root token made elsewhere (init) so generate-root knows of it. */
export async function registerRootToken(broker: Broker, accessor: string, createdBy: string): Promise<void> {
  await broker.store.write([
    {
      op: "put",
      item: {
        pk: REGISTRY,
        sk: accessor,
        created_at: new Date(broker.now()).toISOString(),
        created_by: createdBy,
      },
    },
  ]);
}

/** Registered root tokens that are still valid; entries of revoked ones are removed. */
export async function validRootTokens(broker: Broker): Promise<RegisteredRoot[]> {
  const valid: RegisteredRoot[] = [];
  let cursor: string | undefined;
  do {
    const page = await broker.store.query({ pk: REGISTRY, limit: 100, ...(cursor && { cursor }) });
    for (const item of page.items) {
      if (item.sk === GENERATION_KEY.sk) continue;
      const token = await broker.tokens.lookupByAccessor(item.sk);
      if (token?.policies.includes("root")) {
        valid.push({
          accessor: item.sk,
          createdAt: String(item.created_at),
          createdBy: String(item.created_by),
        });
      } else {
        await broker.store.write([{ op: "delete", key: { pk: item.pk, sk: item.sk } }]);
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return valid;
}

export async function generateRoot(
  broker: Broker,
  options: { force?: boolean } = {},
): Promise<GeneratedRoot> {
  const force = options.force === true;
  const { responseData: _, ...generated } = await audited(
    broker,
    { path: "sys/generate-root", operation: "update", requestData: { force } },
    async () => {
      if (!(await isInitialized(broker))) {
        throw new CofferError("ERR_INVALID_REQUEST", "Coffer is not initialized: run `coffer operator init`");
      }
      const othersValid = await validRootTokens(broker);
      if (othersValid.length > 0 && !force) {
        throw new CofferError(
          "ERR_INVALID_REQUEST",
          `a root token is still valid (accessor ${othersValid.map((root) => root.accessor).join(", ")}): revoke it, or pass --force to make another`,
        );
      }
      const counter = await broker.store.get(GENERATION_KEY);
      const generation = Number(counter?.generation ?? 0);
      let created: Awaited<ReturnType<Broker["tokens"]["create"]>>;
      try {
        created = await broker.tokens.create(
          { policies: ["root"], displayName: "root", path: "auth/token/root", ttl: 0 },
          [
            {
              op: "put",
              item: { ...GENERATION_KEY, generation: generation + 1 },
              condition: counter ? { attribute: "generation", equals: generation } : { exists: false },
            },
          ],
        );
      } catch (error) {
        if (error instanceof CofferError && error.code === "ERR_CONDITION_FAILED") {
          throw new CofferError(
            "ERR_CONFLICT",
            "another root token was generated at the same time: run it again",
          );
        }
        throw error;
      }
      const { token: rootToken, record } = created;
      try {
        await registerRootToken(broker, record.accessor, force ? "generate-root --force" : "generate-root");
      } catch (error) {
        // Unregistered, it would escape the next check: take it back rather than hand it out.
        await broker.tokens.revoke(record).catch(() => {});
        throw error;
      }
      return {
        rootToken,
        accessor: record.accessor,
        othersValid,
        responseData: { accessor: record.accessor },
      };
    },
  );
  return generated;
}
