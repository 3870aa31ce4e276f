/**
 * Configured keys (PEM keys, certificates, inline JWKS) sorted into those that can verify
 * tokens and those that never can, with why: RSA keys under 2048 bits, keys that fit none
 * of the mount's algorithms, keys Coffer has no use for. Malformed input and private key
 * material are refused outright.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseStaticKeys } from "../../../shared/auth/kubernetes/static-keys.ts";
import {
  type ClusterKey,
  clusterKey,
  jwksOf,
  WEAK_RSA_CERTIFICATE,
  weakRsaKey,
} from "../../support/cluster-keys.ts";
import { fixturesAvailable, loadFixtures } from "../../support/k8s-token-fixtures.ts";

const WEAK = "an RSA key of 1024 bits (at least 2048 are needed)";

describe("parseStaticKeys", () => {
  let rsa: ClusterKey;
  let ec: ClusterKey;
  let weak: Awaited<ReturnType<typeof weakRsaKey>>;

  beforeAll(async () => {
    rsa = await clusterKey("RS256");
    ec = await clusterKey("ES256");
    weak = await weakRsaKey();
  });

  it("keeps usable keys from PEM keys and JWKS", async () => {
    const { keys, unusable } = await parseStaticKeys([rsa.pem], jwksOf(ec));
    expect(keys.map((key) => key.jwk.kty)).toEqual(["RSA", "EC"]);
    expect(unusable).toEqual([]);
  });

  it("sorts out RSA keys under 2048 bits, as a JWKS entry, a PEM key or a certificate", async () => {
    const { keys, unusable } = await parseStaticKeys([weak.pem, WEAK_RSA_CERTIFICATE, rsa.pem], {
      keys: [weak.publicJwk, rsa.publicJwk],
    });
    expect(keys).toHaveLength(2);
    expect(unusable).toEqual([
      { where: "pem_keys[0]", why: WEAK },
      { where: "pem_keys[1]", why: WEAK },
      { where: "jwks.keys[0]", why: WEAK },
    ]);
  });

  it("counts an RSA key's bits from its modulus, leading zero bytes aside", async () => {
    const justEnough = await weakRsaKey(2048);
    const { keys } = await parseStaticKeys([], { keys: [justEnough.publicJwk] });
    expect(keys).toHaveLength(1);
    const padded = { ...weak.publicJwk, n: `AAAA${weak.publicJwk.n}` };
    const { unusable } = await parseStaticKeys([], { keys: [padded] });
    expect(unusable).toEqual([{ where: "jwks.keys[0]", why: WEAK }]);
  });

  it("sorts out keys that fit none of the mount's algorithms", async () => {
    const { keys, unusable } = await parseStaticKeys([ec.pem], jwksOf(rsa), ["ES384"]);
    expect(keys).toEqual([]);
    expect(unusable).toEqual([
      { where: "pem_keys[0]", why: "an EC P-256 key fits none of the accepted algorithms (ES384)" },
      {
        where: "jwks.keys[0]",
        why: 'an RSA key for "alg" RS256 fits none of the accepted algorithms (ES384)',
      },
    ]);
    const named = await parseStaticKeys([], { keys: [{ ...rsa.publicJwk, alg: "HS256" }] });
    expect(named.unusable[0]?.why).toBe(
      'an RSA key for "alg" HS256 fits none of the accepted algorithms (RS256, RS384, RS512, PS256, ES256, ES384)',
    );
  });

  it("sorts out JWKS entries that are not signature keys Coffer can use", async () => {
    const { keys, unusable } = await parseStaticKeys([], {
      keys: [
        { ...rsa.publicJwk, use: "enc" },
        { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
        { kty: "EC", crv: "P-521", x: "AA", y: "AA" },
        rsa.publicJwk,
      ],
    });
    expect(keys).toHaveLength(1);
    expect(unusable.map(({ where, why }) => `${where}: ${why}`)).toEqual([
      'jwks.keys[0]: not a signature key (its "use" is not "sig")',
      "jwks.keys[1]: not an RSA or EC (P-256, P-384) signature key",
      "jwks.keys[2]: not an RSA or EC (P-256, P-384) signature key",
    ]);
  });

  it("refuses malformed input and private key material outright", async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => parseStaticKeys(["garbage"], undefined), "pem_keys[0]: not a PEM public key or certificate"],
      [
        () => parseStaticKeys([], { keys: [{ ...rsa.publicJwk, d: "AAAA" }] }),
        "jwks.keys[0]: holds private key material",
      ],
      [
        () => parseStaticKeys([], { keys: [{ ...ec.publicJwk, x: "AAAA" }] }),
        "jwks.keys[0]: the key does not import",
      ],
      [() => parseStaticKeys([], { nokeys: [] }), "jwks: not a JWKS document"],
    ];
    for (const [parsing, message] of cases) {
      await expect(parsing(), message).rejects.toMatchObject({
        code: "ERR_INVALID_REQUEST",
        message: expect.stringContaining(message),
      });
    }
  });

  it.skipIf(!fixturesAvailable())("keeps every key of the real clusters' fixtures, RSA and EC", async () => {
    for (const f of loadFixtures()) {
      const { keys, unusable } = await parseStaticKeys(f.pem ? [f.pem] : [], f.jwks);
      expect(keys.length, f.file).toBeGreaterThan(0);
      expect(unusable, f.file).toEqual([]);
    }
  });
});
