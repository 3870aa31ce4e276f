/**
 * Offline verification of service account tokens minted here in the exact shape of
 * projected tokens: every check, and every forgery a verifier must refuse, with a
 * 403 naming the failed check (or a 400 for what is not a JWT at all).
 */
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { KeySource } from "../../../shared/auth/kubernetes/key-set.ts";
import type { LoginCheck } from "../../../shared/auth/kubernetes/login-errors.ts";
import { parseStaticKeys, staticKeySource } from "../../../shared/auth/kubernetes/static-keys.ts";
import {
  MAX_JWT_BYTES,
  type VerifyOptions,
  verifyServiceAccountToken,
} from "../../../shared/auth/kubernetes/verify-token.ts";
import {
  type ClusterKey,
  clusterKey,
  hs256WithPublicKey,
  jwksOf,
  mintLegacy,
  mintProjected,
  projectedPayload,
  sign,
  signRs256Raw,
  tamperPayload,
  unsecured,
  weakRsaKey,
} from "../../support/cluster-keys.ts";

const ISSUER = "https://oidc.cluster.example";
const IAT = 1_750_000_000;
const AT_IAT = (IAT + 1) * 1000;

const denied = (check: LoginCheck) => ({ code: "ERR_PERMISSION_DENIED", check });
const malformed = (fragment: string) => ({
  code: "ERR_INVALID_REQUEST",
  check: "ERR_JWT_INVALID",
  message: expect.stringContaining(fragment),
});

describe("verifyServiceAccountToken", () => {
  let key: ClusterKey;
  let other: ClusterKey;
  let keys: KeySource;
  const options = (overrides: Partial<VerifyOptions> = {}): VerifyOptions => ({
    keys,
    now: AT_IAT,
    issuer: () => ISSUER,
    audience: "coffer",
    ...overrides,
  });
  const verify = (token: string, overrides: Partial<VerifyOptions> = {}) =>
    verifyServiceAccountToken(token, options(overrides));
  const projected = (claims: Partial<Parameters<typeof mintProjected>[1]> = {}, signer = key) =>
    mintProjected(signer, { issuer: ISSUER, audience: ["coffer"], iat: IAT, ...claims });

  beforeAll(async () => {
    key = await clusterKey("RS256");
    other = await clusterKey("RS256");
    keys = staticKeySource((await parseStaticKeys([], jwksOf(key))).keys);
  });

  it("accepts a genuine projected token and returns its claims", async () => {
    const claims = await verify(await projected());
    expect(claims).toMatchObject({ iss: ISSUER, sub: "system:serviceaccount:default:app", aud: ["coffer"] });
  });

  it("accepts every allowed algorithm: RS256, RS384, RS512, PS256, ES256, ES384", async () => {
    for (const alg of ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"] as const) {
      const signer = await clusterKey(alg);
      const source = staticKeySource((await parseStaticKeys([signer.pem], undefined)).keys);
      await expect(verify(await projected({}, signer), { keys: source }), alg).resolves.toMatchObject({
        iss: ISSUER,
      });
    }
  });

  it("refuses a tampered payload", async () => {
    await expect(verify(tamperPayload(await projected()))).rejects.toMatchObject(
      denied("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"),
    );
  });

  it("refuses a token signed by a key the mount does not trust, under a trusted kid", async () => {
    const forged = await sign(other, projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT }), {
      kid: key.kid,
    });
    await expect(verify(forged)).rejects.toMatchObject(denied("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"));
  });

  it("refuses an unknown kid", async () => {
    await expect(verify(await projected({}, other))).rejects.toMatchObject(
      denied("ERR_JWKS_NO_MATCHING_KEY"),
    );
  });

  it('refuses alg "none" and HS256 keyed with the public key, whatever the keys', async () => {
    const payload = projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT });
    const pemKeys = staticKeySource((await parseStaticKeys([key.pem], undefined)).keys);
    for (const token of [unsecured(payload), await hs256WithPublicKey(key, payload)]) {
      for (const source of [keys, pemKeys]) {
        await expect(verify(token, { keys: source })).rejects.toMatchObject(
          denied("ERR_JOSE_ALG_NOT_ALLOWED"),
        );
      }
    }
  });

  it("refuses the wrong issuer and the wrong audience", async () => {
    await expect(verify(await projected({ issuer: "https://evil.example" }))).rejects.toMatchObject(
      denied("ERR_JWT_ISSUER_MISMATCH"),
    );
    await expect(verify(await projected({ audience: ["sts.amazonaws.com"] }))).rejects.toMatchObject(
      denied("ERR_JWT_AUDIENCE_MISMATCH"),
    );
    await expect(verify(await projected({ audience: "coffer" }))).resolves.toBeDefined();
  });

  it("skips the issuer check only when told to, and fails closed when the issuer is unknown", async () => {
    const token = await projected({ issuer: "https://anything.example" });
    await expect(verify(token, { issuer: () => null })).resolves.toBeDefined();
    await expect(verify(token, { issuer: () => undefined })).rejects.toMatchObject(
      denied("ERR_JWT_ISSUER_UNKNOWN"),
    );
  });

  it("applies exp, nbf and iat with the clock-skew leeway (default 60 s)", async () => {
    const token = await projected({ lifetime: 600 });
    const exp = IAT + 600;
    await expect(verify(token, { now: (exp + 59) * 1000 })).resolves.toBeDefined();
    await expect(verify(token, { now: (exp + 60) * 1000 })).rejects.toMatchObject(denied("ERR_JWT_EXPIRED"));
    await expect(verify(token, { now: (exp + 10) * 1000, leewaySeconds: 0 })).rejects.toMatchObject(
      denied("ERR_JWT_EXPIRED"),
    );

    const later = await projected({ nbf: IAT + 300 });
    await expect(verify(later, { now: (IAT + 239) * 1000 })).rejects.toMatchObject(
      denied("ERR_JWT_NOT_YET_VALID"),
    );
    await expect(verify(later, { now: (IAT + 240) * 1000 })).resolves.toBeDefined();

    const future = await sign(key, {
      ...projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT + 3600 }),
      nbf: undefined,
    });
    await expect(verify(future)).rejects.toMatchObject(denied("ERR_JWT_ISSUED_IN_FUTURE"));
  });

  describe("max_age", () => {
    const DAY = 86_400;
    const YEAR = 365 * DAY;

    it("refuses a token issued to live longer than max_age, however fresh", async () => {
      const token = await projected({ lifetime: 2 * DAY });
      await expect(verify(token, { maxAgeSeconds: 2 * DAY })).resolves.toBeDefined();
      await expect(verify(token, { maxAgeSeconds: 2 * DAY - 1 })).rejects.toMatchObject(
        denied("ERR_JWT_LIFETIME_TOO_LONG"),
      );
    });

    it("counts an extended kubelet token's lifetime to its warnafter, and refuses it once older than max_age", async () => {
      // What the API server issues a kubelet for its own audience: a year, warned after an hour.
      const extended = await projected({ lifetime: YEAR, warnAfter: IAT + 3607 });
      const at = (seconds: number) => ({ now: (IAT + seconds) * 1000, maxAgeSeconds: DAY });
      await expect(verify(extended, at(1))).resolves.toBeDefined();
      // Within the clock-skew leeway (60 s) past max_age, then refused, a year before its exp.
      await expect(verify(extended, at(DAY + 60))).resolves.toBeDefined();
      await expect(verify(extended, at(DAY + 61))).rejects.toMatchObject(denied("ERR_JWT_TOO_OLD"));
      await expect(verify(extended, at(200 * DAY))).rejects.toMatchObject(denied("ERR_JWT_TOO_OLD"));
      // The same year-long token without warnafter was asked for as such.
      const yearLong = await projected({ lifetime: YEAR });
      await expect(verify(yearLong, at(1))).rejects.toMatchObject(denied("ERR_JWT_LIFETIME_TOO_LONG"));
    });

    it("caps the age of a token without exp (where the mount allows those) by its iat", async () => {
      const noExp = await sign(key, {
        ...projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT }),
        exp: undefined,
      });
      const options = { allowMissingExpiry: true, maxAgeSeconds: DAY };
      await expect(verify(noExp, { ...options, now: (IAT + DAY) * 1000 })).resolves.toBeDefined();
      await expect(verify(noExp, { ...options, now: (IAT + 2 * DAY) * 1000 })).rejects.toMatchObject(
        denied("ERR_JWT_TOO_OLD"),
      );
    });

    it("refuses a token with exp but no iat, whose age cannot be known", async () => {
      const noIat = await sign(key, {
        ...projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT }),
        iat: undefined,
      });
      await expect(verify(noIat)).resolves.toBeDefined();
      await expect(verify(noIat, { maxAgeSeconds: DAY })).rejects.toMatchObject(
        denied("ERR_JWT_ISSUED_AT_MISSING"),
      );
    });

    it("lets legacy tokens (no iat, no exp) through only where the mount accepts them", async () => {
      const legacyKeys = staticKeySource((await parseStaticKeys([key.pem], undefined)).keys);
      const options = {
        keys: legacyKeys,
        issuer: () => "kubernetes/serviceaccount",
        audience: undefined,
        maxAgeSeconds: DAY,
      };
      const legacy = await mintLegacy(key);
      await expect(verify(legacy, options)).rejects.toMatchObject(denied("ERR_JWT_EXPIRY_MISSING"));
      await expect(verify(legacy, { ...options, allowMissingExpiry: true })).resolves.toBeDefined();
    });
  });

  it("refuses tokens without exp unless legacy tokens are allowed", async () => {
    const legacyKeys = staticKeySource((await parseStaticKeys([key.pem], undefined)).keys);
    const legacy = await mintLegacy(key);
    await expect(
      verify(legacy, { keys: legacyKeys, issuer: () => "kubernetes/serviceaccount", audience: undefined }),
    ).rejects.toMatchObject(denied("ERR_JWT_EXPIRY_MISSING"));
    await expect(
      verify(legacy, {
        keys: legacyKeys,
        issuer: () => "kubernetes/serviceaccount",
        audience: undefined,
        allowMissingExpiry: true,
      }),
    ).resolves.toMatchObject({ "kubernetes.io/serviceaccount/service-account.name": "app" });
  });

  it("restricts algorithms to the mount's subset", async () => {
    await expect(verify(await projected(), { algorithms: ["ES256"] })).rejects.toMatchObject(
      denied("ERR_JOSE_ALG_NOT_ALLOWED"),
    );
  });

  it("refuses malformed and oversized tokens with a 400 that quotes nothing of them", async () => {
    const cases: [string, string][] = [
      ["not-a-jwt", "three base64url segments"],
      ["a.b", "three base64url segments"],
      ["a.b.c.d", "three base64url segments"],
      ["ey$$.eyJ.sig", "three base64url segments"],
      ["bm90IGpzb24.eyJ9.c2ln", "header is not base64url-encoded JSON"],
      [`${btoa('"str"').replace(/=/g, "")}.e30.c2ln`, "header is not a JSON object"],
      [`${btoa('{"alg":"RS256"}').replace(/=/g, "")}.bm9wZQ.c2ln`, "payload is not base64url-encoded JSON"],
      [`${"a".repeat(MAX_JWT_BYTES)}.b.c`, `exceeds the limit of ${MAX_JWT_BYTES} bytes`],
    ];
    for (const [token, fragment] of cases) {
      const error = await verify(token).catch((thrown: Error) => thrown);
      expect(error, token.slice(0, 20)).toMatchObject(malformed(fragment));
      expect((error as Error).message).not.toContain(token.slice(0, 12));
    }
  });

  it("refuses an empty signature, a crit header and a non-string kid", async () => {
    const token = await projected();
    const [header, payload, signature] = token.split(".");
    await expect(verify(`${header}.${payload}.`)).rejects.toMatchObject(denied("ERR_JWS_UNSIGNED"));
    const claims = projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT });
    const crit = await signRs256Raw(
      key.privateKey,
      { alg: "RS256", kid: key.kid, crit: ["b64"], b64: true },
      claims,
    );
    await expect(verify(crit)).rejects.toMatchObject(denied("ERR_JOSE_NOT_SUPPORTED"));
    const badKid = `${btoa(JSON.stringify({ alg: "RS256", kid: 7 })).replace(/=+$/, "")}.${payload}.${signature}`;
    await expect(verify(badKid)).rejects.toMatchObject(malformed('the "kid" header is invalid'));
  });

  it("accepts a trailing newline (a token read from a file)", async () => {
    await expect(verify(`${await projected()}\n`)).resolves.toBeDefined();
  });

  it("tries every key without a kid for a token without one, and only fitting ones", async () => {
    const ec = await clusterKey("ES256");
    const source = staticKeySource((await parseStaticKeys([other.pem, ec.pem, key.pem], undefined)).keys);
    const noKid = await new SignJWT(projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT }))
      .setProtectedHeader({ alg: "RS256" })
      .sign(key.privateKey);
    await expect(verify(noKid, { keys: source })).resolves.toBeDefined();
    // A kid the PEM keys do not carry still finds them, as Vault's PEM keys do.
    await expect(verify(await projected(), { keys: source })).resolves.toBeDefined();
  });

  it("never verifies with an RSA key under 2048 bits, even one that reached the key set", async () => {
    const weak = await weakRsaKey();
    const token = await signRs256Raw(
      weak.privateKey,
      { alg: "RS256", kid: "weak" },
      projectedPayload({ issuer: ISSUER, audience: ["coffer"], iat: IAT }),
    );
    // Configured keys leave it out...
    const configured = staticKeySource((await parseStaticKeys([], { keys: [weak.publicJwk] })).keys);
    await expect(verify(token, { keys: configured })).rejects.toMatchObject(
      denied("ERR_JWKS_NO_MATCHING_KEY"),
    );
    // ...and if it were in the set, the signature check would still refuse it.
    const forced = staticKeySource([{ kid: "weak", jwk: weak.publicJwk }]);
    await expect(verify(token, { keys: forced })).rejects.toMatchObject(
      denied("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"),
    );
  });
});
