/**
 * Keys fetched from the cluster's issuer: through OIDC discovery (the issuer URL's
 * /.well-known/openid-configuration names the JWKS) or straight from a JWKS URL.
 *
 * Fetches are rare and bounded, so a slow or hostile issuer cannot slow or flood logins:
 * - Keys are reused for KEY_MAX_AGE_MS; after that, the next login refreshes them in the
 *   background and goes on with the cached keys.
 * - A token naming an unknown key id triggers a refetch (key rotation), at most once per
 *   KEY_REFRESH_INTERVAL_MS per mount and process; failed fetches count too, so an issuer
 *   that is down is asked at most once per interval.
 * - While the issuer is down, cached keys keep serving logins for up to KEY_MAX_STALE_MS
 *   after the last successful fetch; after that, logins fail closed (503) until it is back.
 * - Each fetch (discovery document or JWKS) must complete, body included, within
 *   FETCH_TIMEOUT_MS, and reads at most MAX_DOCUMENT_BYTES: reading stops as soon as a
 *   body passes the limit, so a hostile issuer costs at most that much memory.
 */
import { CofferError } from "../../errors.ts";
import { readAtMost } from "../../http/read-at-most.ts";
import { type KeySource, keysOfJwks, type VerificationKey } from "./key-set.ts";

export const KEY_MAX_AGE_MS = 10 * 60_000;
export const KEY_REFRESH_INTERVAL_MS = 60_000;
export const KEY_MAX_STALE_MS = 24 * 3_600_000;
export const FETCH_TIMEOUT_MS = 5_000;
export const MAX_DOCUMENT_BYTES = 512 * 1024;

const DISCOVERY_PATH = "/.well-known/openid-configuration";
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Null when `text` is an acceptable issuer URL: https, or http to a loopback address only
 * (a development issuer), never with credentials.
 */
export function urlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "not a valid URL";
  }
  if (url.username || url.password) return "must not contain credentials";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return "must use https (http is accepted for loopback addresses only)";
}

export type RemoteKeyLocation = { discoveryUrl: string } | { jwksUrl: string };

export interface RemoteKeyOptions {
  now: () => number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Defaults to FETCH_TIMEOUT_MS. */
  fetchTimeoutMs?: number;
}

class FetchFailed extends Error {}

async function fetchJson(fetcher: typeof fetch, url: string, timeoutMs: number): Promise<unknown> {
  const problem = urlProblem(url);
  if (problem) throw new FetchFailed(`${url}: ${problem}`);
  // One deadline for the whole exchange, body included: a server that answers its
  // headers and then drips bytes is cut off like one that never answers.
  const deadline = AbortSignal.timeout(timeoutMs);
  const failure = (error: unknown) =>
    error instanceof FetchFailed
      ? error
      : new FetchFailed(
          deadline.aborted
            ? `${url}: no complete answer within ${timeoutMs} ms`
            : `${url}: ${error instanceof Error ? error.message : String(error)}`,
        );
  let response: Response;
  try {
    response = await fetcher(url, { headers: { accept: "application/json" }, signal: deadline });
  } catch (error) {
    throw failure(error);
  }
  const tooLarge = () => new FetchFailed(`${url}: the document exceeds ${MAX_DOCUMENT_BYTES} bytes`);
  const refuse = (error: FetchFailed) => {
    response.body?.cancel().catch(() => {});
    return error;
  };
  if (!response.ok) throw refuse(new FetchFailed(`${url}: HTTP ${response.status}`));
  if (Number(response.headers.get("content-length") ?? 0) > MAX_DOCUMENT_BYTES) throw refuse(tooLarge());
  let bytes: Uint8Array;
  try {
    bytes = response.body
      ? await readAtMost(response.body, MAX_DOCUMENT_BYTES, tooLarge, deadline)
      : new Uint8Array();
  } catch (error) {
    throw failure(error);
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new FetchFailed(`${url}: not JSON`);
  }
}

interface Fetched {
  keys: VerificationKey[];
  issuer?: string;
  at: number;
}

export function remoteKeySource(location: RemoteKeyLocation, options: RemoteKeyOptions): KeySource {
  const { now } = options;
  const fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.fetchTimeoutMs ?? FETCH_TIMEOUT_MS;
  let fetched: Fetched | undefined;
  let lastAttempt: number | undefined;
  let inflight: Promise<boolean> | undefined;
  let lastError = "";

  async function download(): Promise<Fetched> {
    if ("jwksUrl" in location)
      return { keys: keysOfJwks(await fetchJson(fetcher, location.jwksUrl, timeoutMs)), at: now() };
    const base = location.discoveryUrl.replace(/\/+$/, "");
    const discovery = (await fetchJson(fetcher, `${base}${DISCOVERY_PATH}`, timeoutMs)) as Record<
      string,
      unknown
    > | null;
    const jwksUri = discovery?.jwks_uri;
    if (typeof jwksUri !== "string") throw new FetchFailed(`${base}${DISCOVERY_PATH}: no jwks_uri`);
    const issuer = typeof discovery?.issuer === "string" ? discovery.issuer : undefined;
    return { keys: keysOfJwks(await fetchJson(fetcher, jwksUri, timeoutMs)), issuer, at: now() };
  }

  /** One fetch at a time; true when it brought keys. */
  function refresh(): Promise<boolean> {
    inflight ??= (async () => {
      lastAttempt = now();
      try {
        fetched = await download();
        return true;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        return false;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  const mayFetch = () => lastAttempt === undefined || now() - lastAttempt >= KEY_REFRESH_INTERVAL_MS;

  return {
    async keys() {
      if (fetched && now() - fetched.at < KEY_MAX_AGE_MS) return fetched.keys;
      if (fetched && now() - fetched.at < KEY_MAX_STALE_MS) {
        if (mayFetch()) void refresh();
        return fetched.keys;
      }
      if (inflight) await inflight;
      else if (mayFetch()) await refresh();
      if (fetched && now() - fetched.at < KEY_MAX_STALE_MS) return fetched.keys;
      throw new CofferError(
        "ERR_UPSTREAM_UNAVAILABLE",
        "the cluster's signing keys are unavailable: the issuer could not be reached",
        [],
        { cause: new Error(lastError) },
      );
    },

    async refreshForUnknownKid() {
      if (inflight) return inflight;
      if (!mayFetch()) return false;
      return refresh();
    },

    discoveredIssuer: () => fetched?.issuer,
  };
}
