/**
 * The agent's Coffer token: obtained by logging in with the projected service account
 * token (read from its file at every login, since the kubelet rotates it) or read from a
 * token file, renewed at two thirds of its TTL, and replaced by a new login when renewal
 * no longer extends it (its maximum TTL is near) or the server refuses it.
 */
import { readFile } from "node:fs/promises";
import type { AuthInfo, CofferClient } from "../client.ts";
import type { AuthConfig } from "./config.ts";

export interface Session {
  token: string;
  /** When to renew or log in again (ms since the epoch); undefined for a token that never expires. */
  refreshAt?: number;
  /** The TTL the last login or renewal granted, in ms. */
  ttlMs: number;
  /** The TTL granted at login, in ms: a renewal that gives much less is near the maximum. */
  loginTtlMs: number;
  renewable: boolean;
}

/** A file the agent needs is missing or empty: usually the kubelet has not written it yet. */
export class TokenFileError extends Error {
  override readonly name = "TokenFileError";
}

async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new TokenFileError(
      `cannot read the token file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  const token = text.trim();
  if (token === "") throw new TokenFileError(`the token file ${file} is empty`);
  return token;
}

function sessionOf(token: string, ttlSeconds: number, renewable: boolean, now: number): Session {
  const ttlMs = ttlSeconds * 1000;
  return {
    token,
    ttlMs,
    loginTtlMs: ttlMs,
    renewable,
    refreshAt: ttlMs > 0 ? now + (ttlMs * 2) / 3 : undefined,
  };
}

export async function login(client: CofferClient, auth: AuthConfig, now: () => number): Promise<Session> {
  if (auth.method === "token") {
    const token = await readTokenFile(auth.tokenFile);
    const response = await client.withToken(token).request("GET", "auth/token/lookup-self");
    const data = response?.data ?? {};
    return sessionOf(token, Number(data.ttl ?? 0), Boolean(data.renewable), now());
  }
  const jwt = await readTokenFile(auth.tokenFile);
  const response = await client.withToken(undefined).request("POST", `auth/${auth.mount}/login`, {
    body: { role: auth.role, jwt },
  });
  const info: AuthInfo | null | undefined = response?.auth;
  if (!info?.client_token) throw new Error("the server answered the login without a token");
  return sessionOf(info.client_token, info.lease_duration, info.renewable, now());
}

/**
 * Renews the token; undefined when it cannot be renewed usefully any more and the agent
 * should log in again instead.
 */
export async function renew(
  client: CofferClient,
  session: Session,
  now: () => number,
): Promise<Session | undefined> {
  if (!session.renewable) return undefined;
  const response = await client
    .withToken(session.token)
    .request("POST", "auth/token/renew-self", { body: {} });
  const info = response?.auth;
  if (!info) return undefined;
  const renewed = sessionOf(session.token, info.lease_duration, info.renewable, now());
  // Near its maximum TTL, a renewal grants less and less: log in again before it runs out.
  if (renewed.ttlMs < session.loginTtlMs / 3) return undefined;
  return { ...renewed, loginTtlMs: session.loginTtlMs };
}
