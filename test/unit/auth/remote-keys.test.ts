/**
 * Keys fetched from a real issuer over HTTP (a node:http server counting requests): cached,
 * refetched on rotation at most once per interval, kept serving while the issuer is down,
 * and never turned into a flood of requests by a flood of unknown key ids.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  KEY_MAX_AGE_MS,
  KEY_MAX_STALE_MS,
  KEY_REFRESH_INTERVAL_MS,
  MAX_DOCUMENT_BYTES,
  remoteKeySource,
  urlProblem,
} from "../../../shared/auth/kubernetes/remote-keys.ts";
import { verifyServiceAccountToken } from "../../../shared/auth/kubernetes/verify-token.ts";
import {
  type ClusterKey,
  clusterKey,
  jwksOf,
  mintProjected,
  weakRsaKey,
} from "../../support/cluster-keys.ts";
import { type IssuerServer, startIssuerServer } from "../../support/issuer-server.ts";

describe("remote keys", () => {
  let key: ClusterKey;
  let rotated: ClusterKey;
  let issuer: IssuerServer;
  let clock: number;
  const now = () => clock;

  beforeAll(async () => {
    key = await clusterKey("RS256");
    rotated = await clusterKey("ES256");
  });
  beforeEach(async () => {
    clock = Date.now();
    issuer = await startIssuerServer(jwksOf(key));
  });
  afterEach(async () => {
    await issuer.stop();
  });

  const token = (signer = key, kid?: string) =>
    mintProjected(kid ? { ...signer, kid } : signer, { issuer: issuer.url, iat: Math.floor(clock / 1000) });
  const verify = async (source: ReturnType<typeof remoteKeySource>, jwt: string) =>
    verifyServiceAccountToken(jwt, { keys: source, now: clock, issuer: () => issuer.url });
  /** The keys are unavailable (503): why the fetch failed, as the server log gets it. */
  const whyUnavailable = async (source: ReturnType<typeof remoteKeySource>) => {
    const error = await source.keys().then(
      () => undefined,
      (thrown: Error) => thrown,
    );
    expect(error).toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
    return (error?.cause as Error | undefined)?.message;
  };

  it("finds the JWKS through OIDC discovery once, then serves logins from the cache", async () => {
    const source = remoteKeySource({ discoveryUrl: issuer.url }, { now });
    for (let i = 0; i < 20; i++) await verify(source, await token());
    expect(issuer.requests.get("/.well-known/openid-configuration")).toBe(1);
    expect(issuer.requests.get("/openid/v1/jwks")).toBe(1);
    expect(source.discoveredIssuer()).toBe(issuer.url);
  });

  it("reads a JWKS URL directly", async () => {
    const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now });
    await verify(source, await token());
    expect(issuer.total()).toBe(1);
  });

  it("picks up a rotated key on its first token, refetching once", async () => {
    const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now });
    await verify(source, await token());
    issuer.setJwks(jwksOf(key, rotated));
    clock += KEY_REFRESH_INTERVAL_MS;
    await expect(verify(source, await token(rotated))).resolves.toBeDefined();
    expect(issuer.total()).toBe(2);
  });

  it("does not flood the issuer when flooded with unknown key ids", async () => {
    const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now });
    await verify(source, await token());
    const forged = await Promise.all(Array.from({ length: 200 }, (_, i) => token(rotated, `unknown-${i}`)));
    const results = await Promise.allSettled(forged.map((jwt) => verify(source, jwt)));
    expect(results.every((result) => result.status === "rejected")).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ check: "ERR_JWKS_NO_MATCHING_KEY" });
    // The first fetch, plus at most one refetch in this interval.
    expect(issuer.total()).toBeLessThanOrEqual(2);

    clock += KEY_REFRESH_INTERVAL_MS - 1;
    await Promise.allSettled(forged.slice(0, 50).map((jwt) => verify(source, jwt)));
    expect(issuer.total()).toBeLessThanOrEqual(2);
    clock += 1;
    await Promise.allSettled(forged.slice(0, 50).map((jwt) => verify(source, jwt)));
    expect(issuer.total()).toBeLessThanOrEqual(3);
  });

  it("keeps serving logins from cached keys while the issuer is down, then fails closed", async () => {
    const source = remoteKeySource({ discoveryUrl: issuer.url }, { now });
    await verify(source, await token());
    await issuer.stop();

    clock += KEY_MAX_AGE_MS + 1;
    await expect(verify(source, await token())).resolves.toBeDefined();
    clock += KEY_REFRESH_INTERVAL_MS;
    await expect(verify(source, await token())).resolves.toBeDefined();

    clock += KEY_MAX_STALE_MS;
    await expect(verify(source, await token())).rejects.toMatchObject({
      code: "ERR_UPSTREAM_UNAVAILABLE",
      message: "the cluster's signing keys are unavailable: the issuer could not be reached",
    });
  });

  it("refreshes stale keys in the background without delaying the login", async () => {
    const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now });
    await verify(source, await token());
    clock += KEY_MAX_AGE_MS + 1;
    await verify(source, await token());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(issuer.total()).toBe(2);
  });

  it("answers 503 when the issuer has never been reached, and asks again only after the interval", async () => {
    issuer.failWith(500);
    const source = remoteKeySource({ discoveryUrl: issuer.url }, { now });
    for (let i = 0; i < 10; i++) {
      await expect(verify(source, await token())).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
    }
    expect(issuer.total()).toBe(1);
    issuer.failWith(undefined);
    clock += KEY_REFRESH_INTERVAL_MS;
    await expect(verify(source, await token())).resolves.toBeDefined();
  });

  it("treats documents that are not JWKS, not JSON or too large as a failed fetch", async () => {
    for (const body of [{ nokeys: true }, "x".repeat(MAX_DOCUMENT_BYTES + 10)]) {
      issuer.setJwks(body as unknown as { keys: unknown[] });
      const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now });
      await expect(verify(source, await token())).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
    }
  });

  it("leaves out fetched keys that can never verify: RSA keys under 2048 bits", async () => {
    const weak = await weakRsaKey();
    issuer.setJwks({ keys: [weak.publicJwk, key.publicJwk] });
    const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now });
    expect((await source.keys()).map((fetched) => fetched.kid)).toEqual([key.kid]);
  });

  it("stops reading a discovery document or JWKS as soon as it passes the limit, and hangs up", async () => {
    for (const path of ["/.well-known/openid-configuration", "/openid/v1/jwks"]) {
      issuer.misbehave(path, "flood");
      const source = remoteKeySource({ discoveryUrl: issuer.url }, { now });
      expect(await whyUnavailable(source)).toBe(
        `${issuer.url}${path}: the document exceeds ${MAX_DOCUMENT_BYTES} bytes`,
      );
      // The server offered 256 MiB; what it got to send is the limit plus socket buffers.
      expect(await issuer.hungUp(), path).toBeLessThan(16 * 1024 * 1024);
      issuer.misbehave(path, undefined);
    }
  });

  it("gives up on an issuer that drips its answer or never answers, at the fetch timeout", async () => {
    for (const behaviour of ["drip", "silent"] as const) {
      issuer.misbehave("/openid/v1/jwks", behaviour);
      const source = remoteKeySource({ jwksUrl: issuer.jwksUrl }, { now, fetchTimeoutMs: 300 });
      expect(await whyUnavailable(source)).toBe(`${issuer.jwksUrl}: no complete answer within 300 ms`);
      // The client hung up rather than waiting for the rest.
      await issuer.hungUp();
    }
  });

  it("accepts https URLs, and http only on loopback", () => {
    expect(urlProblem("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC")).toBeNull();
    expect(urlProblem("http://127.0.0.1:8200/dev-issuer")).toBeNull();
    expect(urlProblem("http://localhost:1234")).toBeNull();
    expect(urlProblem("http://10.0.0.1/jwks")).toMatch(/https/);
    expect(urlProblem("ftp://example.com")).toMatch(/https/);
    expect(urlProblem("https://user:pw@example.com")).toMatch(/credentials/);
    expect(urlProblem("not a url")).toBe("not a valid URL");
  });
});
