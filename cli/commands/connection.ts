/**
 * Which server a command talks to and with which token. The address comes from
 * --address, then COFFER_ADDR, then VAULT_ADDR, then Vault's default; the token from
 * COFFER_TOKEN, then VAULT_TOKEN, then ~/.vault-token (what `vault login` writes), then
 * ~/.coffer-token (what `coffer login` writes). There is no option for the token a command
 * authenticates with: a command line is visible to every user of the machine.
 */
import {
  ApiError,
  type CofferClient,
  ConnectionError,
  createClient,
  type Method,
  type RequestOptions,
  type VaultResponse,
} from "../client.ts";
import { HintedError } from "./exit-codes.ts";
import { readTokenFile, tokenFilePath, vaultTokenFilePath } from "./token-file.ts";

export const DEFAULT_ADDRESS = "http://127.0.0.1:8200";

export interface Connection {
  client: CofferClient;
  /** Where the token came from, to say so when the server refuses it. */
  tokenSource: string;
  /** Where the address came from, to say so when the server cannot be reached. */
  addressSource: string;
  /** The client's request, with a hint added to the failures a person can fix. */
  request(method: Method, path: string, options?: RequestOptions): Promise<VaultResponse | undefined>;
  /** The same server with another token, e.g. one a person is logging in with. */
  withToken(token: string, source: string): Connection;
}

type Env = Record<string, string | undefined>;

function fromEnv(name: string, env: Env = process.env): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * The server's address. One that is not an http(s) URL fails as the vault CLI's request
 * to it would: a remote error, exit 2.
 */
export function resolveAddress(
  flag: string | undefined,
  env: Env = process.env,
): { address: string; source: string } {
  const [address, source] =
    flag !== undefined
      ? [flag, "--address"]
      : fromEnv("COFFER_ADDR", env) !== undefined
        ? [fromEnv("COFFER_ADDR", env) as string, "COFFER_ADDR"]
        : fromEnv("VAULT_ADDR", env) !== undefined
          ? [fromEnv("VAULT_ADDR", env) as string, "VAULT_ADDR"]
          : [DEFAULT_ADDRESS, "the default address"];
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(
      `invalid address "${address}" (from ${source}): expected a URL such as ${DEFAULT_ADDRESS}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`invalid address "${address}" (from ${source}): use http:// or https://`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    process.stderr.write(
      `Warning: ${address} is plain http: tokens and secrets cross the network unencrypted\n`,
    );
  }
  return { address: url.origin + url.pathname.replace(/\/+$/, ""), source };
}

/**
 * Whether a URL's hostname is this machine: localhost, 127.0.0.0/8 or [::1]. The URL
 * parser has already normalized IP literals (`127.1` is `127.0.0.1`, IPv6 in brackets), so
 * a name that merely starts with "127." is a remote host, not a loopback address.
 */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

async function findToken(): Promise<{ token?: string; source: string }> {
  for (const name of ["COFFER_TOKEN", "VAULT_TOKEN"]) {
    const token = fromEnv(name);
    if (token !== undefined) return { token, source: name };
  }
  for (const file of [vaultTokenFilePath(), tokenFilePath()]) {
    const token = await readTokenFile(file);
    if (token !== undefined) return { token, source: file };
  }
  return { source: "nowhere" };
}

/**
 * "required": the command needs a token; "optional": sent when there is one; "none":
 * never sent (login, which must not present an old token).
 */
export type TokenUse = "required" | "optional" | "none";

export async function connect(
  options: { address?: string },
  tokenUse: TokenUse = "required",
): Promise<Connection> {
  const { address, source: addressSource } = resolveAddress(options.address);
  const { token, source: tokenSource } =
    tokenUse === "none" ? { token: undefined, source: "nowhere" } : await findToken();
  if (token === undefined && tokenUse === "required") {
    // A remote error, as the vault CLI's request without a token is refused.
    throw new Error(
      "not logged in: run `coffer login kubernetes --role <role>` or `coffer login token`, or set VAULT_TOKEN",
    );
  }
  return connection(createClient({ address, token }), tokenSource, addressSource);
}

function connection(client: CofferClient, tokenSource: string, addressSource: string): Connection {
  return {
    client,
    tokenSource,
    addressSource,
    async request(method, path, requestOptions) {
      try {
        return await client.request(method, path, requestOptions);
      } catch (error) {
        throw addHint(error, {
          address: client.address,
          tokenSource,
          addressSource,
          hasToken: client.token !== undefined,
        });
      }
    },
    withToken: (token, source) => connection(client.withToken(token), source, addressSource),
  };
}

function addHint(
  error: unknown,
  context: { address: string; tokenSource: string; addressSource: string; hasToken: boolean },
) {
  const failed = error instanceof ConnectionError || error instanceof ApiError;
  if (failed && new URL(context.address).pathname.endsWith("/v1")) {
    // Clients add /v1/ themselves: this address makes every request /v1/v1/...
    return new HintedError(
      error,
      `Hint: the address ${context.address} (from ${context.addressSource}) ends in /v1; ` +
        `set it without: ${context.address.replace(/\/v1$/, "")}`,
    );
  }
  if (error instanceof ConnectionError) {
    return new HintedError(
      error,
      `Hint: the address came from ${context.addressSource}; set COFFER_ADDR (or VAULT_ADDR) or pass --address`,
    );
  }
  if (error instanceof ApiError && error.status === 403 && context.hasToken) {
    return new HintedError(
      error,
      `Hint: the token from ${context.tokenSource} was refused: it may have expired (log in again) or its ` +
        "policies may not allow this; `coffer token lookup` shows them",
    );
  }
  return error;
}
