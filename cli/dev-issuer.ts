/**
 * The development OIDC issuer of `coffer dev`: a stand-in for a cluster's service account
 * issuer, served by the dev server itself under /dev-issuer/. It publishes the OIDC
 * discovery document and JWKS exactly as a Kubernetes API server does, and mints tokens in
 * the exact shape of projected service account tokens (RS256, kid = base64url SHA-256 of
 * the key's SPKI, as kubeadm clusters do), so a login through auth/kubernetes takes the
 * same path as in production.
 *
 * Tokens are minted for requests from the same machine (loopback) or carrying a root
 * token: a dev server listening on a network address must not hand out identities.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Hono } from "hono";
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import type { Broker } from "../shared/broker.ts";
import { toBase64Url } from "../shared/crypto/encoding.ts";
import { parseDuration } from "../shared/engines/fields.ts";
import { writeFileAtomic } from "./agent/atomic-write.ts";
import { DEV_ISSUER_PATH } from "./dev-issuer-path.ts";

export { DEV_ISSUER_PATH };
export const DEV_AUTH_MOUNT = "kubernetes";
const DEFAULT_TTL_S = 3600;
const MAX_TTL_S = 7 * 86_400;
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

export interface MintInput {
  namespace: string;
  serviceAccount: string;
  audience?: string;
  /** Seconds. */
  ttl?: number;
}

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

export interface DevIssuer {
  /** The issuer URL; set by start(). */
  readonly url: string;
  /** Serves the issuer's paths and hands every other request to `app`. */
  wrap(app: Fetch): Fetch;
  /** Sets the issuer URL and makes auth/kubernetes trust it. */
  start(serverUrl: string, app: Hono, rootToken: string): Promise<void>;
  mint(input: MintInput): Promise<string>;
}

interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

/** The key file of an earlier run; a file that is not an RSA private JWK is an error, never replaced silently. */
async function readKeyFile(keyFile: string): Promise<{ privateJwk: JWK; privateKey: CryptoKey }> {
  const unusable = (reason: string) =>
    new Error(
      `cannot use the development issuer's key in ${keyFile} (${reason}): delete the file and start ` +
        "`coffer dev` again to make a new key (service account tokens signed with the old one stop working)",
    );
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(readFileSync(keyFile, "utf8")) as JWK;
  } catch (error) {
    // The parser's message quotes the text, which would put key material in the output.
    throw unusable(error instanceof SyntaxError ? "not valid JSON" : String((error as Error).message));
  }
  if (privateJwk?.kty !== "RSA" || typeof privateJwk.d !== "string") throw unusable("not an RSA private key");
  try {
    return { privateJwk, privateKey: (await importJWK(privateJwk, "RS256")) as CryptoKey };
  } catch {
    throw unusable("not a usable RSA private key");
  }
}

async function loadOrCreateKey(keyFile: string | undefined): Promise<SigningKey> {
  let privateJwk: JWK;
  let privateKey: CryptoKey;
  if (keyFile && existsSync(keyFile)) {
    ({ privateJwk, privateKey } = await readKeyFile(keyFile));
  } else {
    const pair = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    privateKey = (await importJWK(privateJwk, "RS256")) as CryptoKey;
    // Atomic: a crash mid-write must not leave a truncated key that the next start cannot read.
    if (keyFile) await writeFileAtomic(keyFile, JSON.stringify(privateJwk));
  }
  const publicJwk: JWK = { kty: "RSA", n: privateJwk.n, e: privateJwk.e };
  const spki = await crypto.subtle.exportKey(
    "spki",
    await crypto.subtle.importKey("jwk", publicJwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, [
      "verify",
    ]),
  );
  const kid = toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", spki)));
  return { privateKey, publicJwk: { ...publicJwk, kid, use: "sig", alg: "RS256" }, kid };
}

/** A uuid derived from `seed`: a service account keeps its uid across dev tokens. */
async function stableUid(seed: string): Promise<string> {
  const hex = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed))),
  )
    .slice(0, 16)
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from(
    crypto.getRandomValues(new Uint8Array(5)),
    (byte) => alphabet[byte % alphabet.length],
  ).join("");
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** The issuer's address, reachable from this machine even when the server listens on all interfaces. */
export function issuerUrlFor(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.hostname === "0.0.0.0" || url.hostname === "[::]") url.hostname = "127.0.0.1";
  return `${url.origin}${DEV_ISSUER_PATH}`;
}

export function validateMintInput(input: Record<string, unknown>): MintInput | string {
  const { namespace, service_account: serviceAccount, audience, ttl } = input;
  if (typeof namespace !== "string" || !NAME.test(namespace)) return "namespace must be a Kubernetes name";
  if (typeof serviceAccount !== "string" || !NAME.test(serviceAccount)) {
    return "service_account must be a Kubernetes name";
  }
  if (audience !== undefined && (typeof audience !== "string" || audience === "" || audience.length > 256)) {
    return "audience must be a non-empty string";
  }
  let seconds = DEFAULT_TTL_S;
  if (ttl !== undefined) {
    try {
      seconds = parseDuration(ttl, "ttl");
    } catch {
      return 'ttl must be a duration such as "10m" or 600';
    }
    if (seconds < 1 || seconds > MAX_TTL_S) return `ttl must be between 1s and ${MAX_TTL_S / 86_400}d`;
  }
  return { namespace, serviceAccount, audience: audience as string | undefined, ttl: seconds };
}

export async function createDevIssuer(broker: Broker, keyFile: string | undefined): Promise<DevIssuer> {
  const key = await loadOrCreateKey(keyFile);
  let url = "";
  const nodeUid = await stableUid(`${key.kid}/node`);

  async function mint(input: MintInput): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const podName = `${input.serviceAccount}-${randomSuffix()}`;
    return new SignJWT({
      "kubernetes.io": {
        namespace: input.namespace,
        node: { name: "coffer-dev", uid: nodeUid },
        pod: { name: podName, uid: crypto.randomUUID() },
        serviceaccount: {
          name: input.serviceAccount,
          uid: await stableUid(`${key.kid}/${input.namespace}/${input.serviceAccount}`),
        },
      },
    })
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(url)
      .setSubject(`system:serviceaccount:${input.namespace}:${input.serviceAccount}`)
      .setAudience([input.audience ?? url])
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + (input.ttl ?? DEFAULT_TTL_S))
      .setJti(crypto.randomUUID())
      .sign(key.privateKey);
  }

  /** Loopback callers, or callers presenting a root token. */
  async function mayMint(request: Request, env: unknown): Promise<boolean> {
    const remote = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
      ?.socket?.remoteAddress;
    if (remote && LOOPBACK.has(remote)) return true;
    const token = request.headers.get("x-vault-token");
    const record = token ? await broker.tokens.lookup(token) : undefined;
    return record?.policies.includes("root") ?? false;
  }

  async function serve(request: Request, env: unknown, path: string): Promise<Response> {
    if (request.method === "GET" && path === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/openid/v1/jwks`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (request.method === "GET" && path === "/openid/v1/jwks") return json(200, { keys: [key.publicJwk] });
    if (request.method === "POST" && path === "/token") {
      if (!(await mayMint(request, env))) return json(403, { errors: ["permission denied"] });
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return json(400, { errors: ["the request body must be JSON"] });
      }
      const input = validateMintInput((body ?? {}) as Record<string, unknown>);
      if (typeof input === "string") return json(400, { errors: [input] });
      return json(200, { token: await mint(input) });
    }
    return json(404, { errors: [] });
  }

  return {
    get url() {
      return url;
    },

    wrap(app) {
      return (request, env) => {
        const { pathname } = new URL(request.url);
        if (pathname !== DEV_ISSUER_PATH && !pathname.startsWith(`${DEV_ISSUER_PATH}/`))
          return app(request, env);
        return serve(request, env, pathname.slice(DEV_ISSUER_PATH.length));
      };
    },

    async start(serverUrl, app, rootToken) {
      url = issuerUrlFor(serverUrl);
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await app.request(`/v1/${path}`, {
          method,
          headers: { "X-Vault-Token": rootToken },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (response.status >= 400) {
          throw new Error(`dev issuer setup: ${method} ${path}: ${response.status} ${await response.text()}`);
        }
        return response;
      };
      const mounts = (await (await call("GET", "sys/auth")).json()) as {
        data: Record<string, { type: string }>;
      };
      const existing = mounts.data[`${DEV_AUTH_MOUNT}/`];
      if (existing && existing.type !== "kubernetes") return;
      if (!existing) {
        await call("POST", `sys/auth/${DEV_AUTH_MOUNT}`, {
          type: "kubernetes",
          description: "development issuer of coffer dev",
        });
      }
      // Rewritten on every start: the port, and so the issuer URL, may have changed.
      await call("POST", `auth/${DEV_AUTH_MOUNT}/config`, { oidc_discovery_url: url, issuer: url });
    },

    mint,
  };
}
