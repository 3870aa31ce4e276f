/**
 * Every real-cluster token fixture verifies, or fails, exactly as its `expectValid` says,
 * with the clock pinned to the token's iat, through the same verification logins use.
 */
import { describe, expect, it } from "vitest";
import type { KeySource } from "../../../shared/auth/kubernetes/key-set.ts";
import type { LoginCheck, LoginRefused } from "../../../shared/auth/kubernetes/login-errors.ts";
import { DEFAULT_MAX_AGE_S } from "../../../shared/auth/kubernetes/role.ts";
import { serviceAccountOf } from "../../../shared/auth/kubernetes/service-account.ts";
import { parseStaticKeys, staticKeySource } from "../../../shared/auth/kubernetes/static-keys.ts";
import { verifyServiceAccountToken } from "../../../shared/auth/kubernetes/verify-token.ts";
import {
  fixture,
  fixturesAvailable,
  loadFixtures,
  pinnedNow,
  type TokenFixture,
} from "../../support/k8s-token-fixtures.ts";

async function keysOf(f: TokenFixture): Promise<KeySource> {
  return staticKeySource((await parseStaticKeys(f.pem ? [f.pem] : [], f.jwks)).keys);
}

function verify(
  f: TokenFixture,
  keys: KeySource,
  overrides: { allowMissingExpiry?: boolean; now?: number; maxAgeSeconds?: number } = {},
) {
  return verifyServiceAccountToken(f.token, {
    keys,
    now: overrides.now ?? pinnedNow(f),
    issuer: () => f.claims.iss,
    allowMissingExpiry: overrides.allowMissingExpiry ?? true,
    maxAgeSeconds: overrides.maxAgeSeconds,
  });
}

/** Each genuine fixture under a role's default max_age, verified at its issue. */
const UNDER_DEFAULT_MAX_AGE: Record<string, LoginCheck | "accepted"> = {
  // A year long, but extended by the API server: warnafter says the kubelet asked for 3607 s.
  "kind-v1.34-projected-rs256.json": "accepted",
  // Exactly 24 h.
  "eks-projected-rs256.json": "accepted",
  "k8s-testkeys-es256-derived.json": "accepted",
  "minikube-v1.18-projected-rs256-expired.json": "accepted",
  // Requested for ten years (316,000,000 s), with no warnafter.
  "minikube-v1.18-projected-rs256.json": "ERR_JWT_LIFETIME_TOO_LONG",
  // Legacy tokens carry no iat and no exp: only allow_legacy_tokens decides.
  "minikube-legacy-secret-rs256.json": "accepted",
  "minikube-legacy-secret-rs256-b.json": "accepted",
  "minikube-v1.20-legacy-secret-rs256-kid.json": "accepted",
  "vault-es384-hand-made.json": "accepted",
};

const available = fixturesAvailable();

describe.skipIf(!available)("Kubernetes token fixtures", () => {
  const fixtures = available ? loadFixtures() : [];

  it("finds the fixtures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(13);
  });

  for (const f of fixtures) {
    it(`${f.file}: ${f.expectValid ? "verifies" : "is refused"}`, async () => {
      const result = verify(f, await keysOf(f));
      if (f.expectValid) {
        const claims = await result;
        expect(claims.iss).toBe(f.claims.iss);
        const account = serviceAccountOf(claims);
        expect(account.namespace).not.toBe("");
        expect(account.name).not.toBe("");
      } else {
        const check = f.file.includes("vs-eks-jwks")
          ? "ERR_JWKS_NO_MATCHING_KEY"
          : "ERR_JWS_SIGNATURE_VERIFICATION_FAILED";
        await expect(result).rejects.toMatchObject({ code: "ERR_PERMISSION_DENIED", check });
      }
    });
  }

  it("reads the service account from projected and legacy claim layouts", async () => {
    const eks = fixture("eks-projected-rs256.json");
    expect(serviceAccountOf(await verify(eks, await keysOf(eks)))).toMatchObject({
      namespace: "hakawai",
      name: "hakawai-litellm-proxy",
      secretName: "",
    });
    const legacy = fixture("minikube-legacy-secret-rs256.json");
    expect(serviceAccountOf(await verify(legacy, await keysOf(legacy)))).toMatchObject({
      namespace: "default",
      name: "vault-auth",
      secretName: "vault-auth-token-t5pcn",
    });
  });

  it("refuses legacy tokens (no exp) by default and accepts them when the mount opts in", async () => {
    for (const name of ["minikube-legacy-secret-rs256.json", "minikube-v1.20-legacy-secret-rs256-kid.json"]) {
      const f = fixture(name);
      const keys = await keysOf(f);
      await expect(verify(f, keys, { allowMissingExpiry: false })).rejects.toMatchObject({
        code: "ERR_PERMISSION_DENIED",
        check: "ERR_JWT_EXPIRY_MISSING",
      });
      await expect(verify(f, keys, { allowMissingExpiry: true })).resolves.toMatchObject({
        iss: "kubernetes/serviceaccount",
      });
    }
  });

  it("takes the key out of the X.509 certificate that wraps the legacy minikube key", async () => {
    const f = fixture("minikube-legacy-secret-rs256-b.json");
    expect(f.pem).toContain("BEGIN CERTIFICATE");
    const { keys } = await parseStaticKeys([f.pem as string], undefined);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.jwk.kty).toBe("RSA");
    await expect(verify(f, staticKeySource(keys))).resolves.toMatchObject({
      sub: "system:serviceaccount:default:vault-invalid",
    });
  });

  it("refuses the expired fixture at today's date, and every token one second before its nbf/iat window", async () => {
    const expired = fixture("minikube-v1.18-projected-rs256-expired.json");
    await expect(verify(expired, await keysOf(expired), { now: Date.now() })).rejects.toMatchObject({
      check: "ERR_JWT_EXPIRED",
    });
    const kind = fixture("kind-v1.34-projected-rs256.json");
    const beforeIssue = ((kind.claims.iat as number) - 120) * 1000;
    await expect(verify(kind, await keysOf(kind), { now: beforeIssue })).rejects.toMatchObject({
      code: "ERR_PERMISSION_DENIED",
      check: "ERR_JWT_NOT_YET_VALID",
    });
  });

  it("under the default max_age (24 h) at their issue, accepts every kubelet token and refuses a ten-year one", async () => {
    const genuine = fixtures.filter((f) => f.expectValid);
    expect(Object.keys(UNDER_DEFAULT_MAX_AGE).sort()).toEqual(genuine.map((f) => f.file).sort());
    for (const f of genuine) {
      const outcome = await verify(f, await keysOf(f), { maxAgeSeconds: DEFAULT_MAX_AGE_S }).then(
        () => "accepted",
        (error: LoginRefused) => error.check,
      );
      expect(outcome, f.file).toBe(UNDER_DEFAULT_MAX_AGE[f.file]);
    }
    const tenYears = fixture("minikube-v1.18-projected-rs256.json");
    await expect(
      verify(tenYears, await keysOf(tenYears), { maxAgeSeconds: 316_000_000 }),
    ).resolves.toBeDefined();
  });

  it("refuses the kind cluster's year-long token once it is older than max_age, a year before its exp", async () => {
    const kind = fixture("kind-v1.34-projected-rs256.json");
    const keys = await keysOf(kind);
    const iat = kind.claims.iat as number;
    const at = (seconds: number) => ({ now: (iat + seconds) * 1000, maxAgeSeconds: DEFAULT_MAX_AGE_S });
    await expect(verify(kind, keys, at(DEFAULT_MAX_AGE_S))).resolves.toBeDefined();
    await expect(verify(kind, keys, at(2 * DEFAULT_MAX_AGE_S))).rejects.toMatchObject({
      code: "ERR_PERMISSION_DENIED",
      check: "ERR_JWT_TOO_OLD",
    });
    // Without the cap, it would log in until then.
    await expect(
      verify(kind, keys, { now: ((kind.claims.exp as number) - 3600) * 1000 }),
    ).resolves.toBeDefined();
  });

  it("refuses a genuine token checked against another cluster's keys, naming the key id mismatch", async () => {
    const f = fixture("neg-kind-token-vs-eks-jwks.json");
    await expect(verify(f, await keysOf(f))).rejects.toMatchObject({ check: "ERR_JWKS_NO_MATCHING_KEY" });
  });

  it("verifies the ES256 fixture through its JWKS of RSA and EC keys, and the ES384 one through a PEM key", async () => {
    const es256 = fixture("k8s-testkeys-es256-derived.json");
    const es384 = fixture("vault-es384-hand-made.json");
    await expect(verify(es256, await keysOf(es256))).resolves.toMatchObject({
      iss: "https://issuer.example.com",
    });
    await expect(verify(es384, await keysOf(es384))).resolves.toMatchObject({
      iss: "kubernetes/serviceaccount",
    });
  });
});
