/**
 * `coffer dev token`: asks the running dev server's issuer for a token in the exact shape
 * of a projected service account token, to log in through auth/kubernetes as a pod would.
 * The server's address comes from COFFER_ADDR or VAULT_ADDR (default http://127.0.0.1:8200),
 * resolved as the client commands resolve it.
 */
import { resolveAddress } from "./commands/connection.ts";
import { DEV_ISSUER_PATH } from "./dev-issuer-path.ts";

export interface DevTokenOptions {
  namespace: string;
  serviceAccount: string;
  audience?: string;
  ttl?: string;
}

/** The same address, checks and plain-http warning as every client command. */
export function devServerAddress(env: Record<string, string | undefined> = process.env): string {
  return resolveAddress(undefined, env).address;
}

export async function requestDevToken(
  address: string,
  options: DevTokenOptions,
  rootToken?: string,
): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${address}${DEV_ISSUER_PATH}/token`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(rootToken ? { "X-Vault-Token": rootToken } : {}) },
      body: JSON.stringify({
        namespace: options.namespace,
        service_account: options.serviceAccount,
        audience: options.audience,
        ttl: options.ttl,
      }),
    });
  } catch (error) {
    const reason =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot reach the dev server at ${address} (${reason}): is \`coffer dev\` running?`);
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; errors?: string[] };
  if (response.status === 404)
    throw new Error(`${address} has no development issuer: is it a \`coffer dev\` server?`);
  if (!response.ok || typeof body.token !== "string") {
    throw new Error(body.errors?.join("; ") || `the dev server answered ${response.status}`);
  }
  return body.token;
}
