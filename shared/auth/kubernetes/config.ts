/**
 * auth/<mount>/config: which cluster the mount trusts. The issuer, and exactly one place
 * its signing keys come from:
 * - `oidc_discovery_url`: the issuer's OIDC discovery (its JWKS is found from there);
 * - `jwks_url`: a JWKS served anywhere;
 * - static keys, for clusters whose issuer Coffer cannot reach: `pem_keys` (Vault's name;
 *   `jwt_validation_pubkeys` is accepted too) and/or `jwks`, a JWKS document.
 *
 * Vault's field names are accepted where they apply. Coffer never calls back into the
 * cluster, so `token_reviewer_jwt` is refused and `kubernetes_host` / `kubernetes_ca_cert`
 * are only kept for clients that send them.
 */
import type { JsonObject } from "../../engines/engine.ts";
import type { FieldSchema, FieldValues } from "../../engines/fields.ts";
import { invalidRequest } from "../../errors.ts";
import type { Item, ItemKey } from "../../store/item-store.ts";
import { ALLOWED_ALGORITHMS, type Algorithm, isAllowedAlgorithm } from "./key-set.ts";
import { urlProblem } from "./remote-keys.ts";
import { parseStaticKeys } from "./static-keys.ts";
import { DEFAULT_LEEWAY_SECONDS } from "./verify-token.ts";

/** Most clock skew a mount may tolerate. */
export const MAX_LEEWAY_SECONDS = 300;

export interface KubernetesConfig {
  oidcDiscoveryUrl: string;
  jwksUrl: string;
  pemKeys: string[];
  /** A JWKS document as JSON text, or "". */
  jwks: string;
  issuer: string;
  disableIssValidation: boolean;
  allowLegacyTokens: boolean;
  clockSkewLeeway: number;
  jwtSupportedAlgs: Algorithm[];
  kubernetesHost: string;
  kubernetesCaCert: string;
  /** Changes on every write, so processes drop keys cached for an older configuration. */
  revision: string;
}

/** The fields of auth/<mount>/config, in Vault's names where they apply. */
export const CONFIG_FIELDS = {
  oidc_discovery_url: { type: "string", description: "The issuer's OIDC discovery URL." },
  jwks_url: { type: "string", description: "A URL serving the issuer's JWKS." },
  pem_keys: { type: "stringList", description: "Static PEM public keys or certificates." },
  jwt_validation_pubkeys: {
    type: "stringList",
    description: "The same as pem_keys, in another of Vault's names.",
  },
  jwks: { type: "any", description: "A static JWKS document (JSON text or an object)." },
  issuer: { type: "string", description: "The issuer tokens must name; discovered when empty." },
  disable_iss_validation: { type: "boolean", default: false, description: "Accept any issuer." },
  allow_legacy_tokens: {
    type: "boolean",
    default: false,
    description: "Accept tokens without an expiry (legacy secret-based service account tokens).",
  },
  clock_skew_leeway: { type: "duration", description: "Clock skew tolerated on expiry and not-before." },
  jwt_supported_algs: { type: "stringList", description: "Signature algorithms accepted." },
  kubernetes_host: { type: "string", description: "Kept for Vault clients; Coffer never calls the cluster." },
  kubernetes_ca_cert: {
    type: "string",
    description: "Kept for Vault clients; Coffer never calls the cluster.",
  },
  disable_local_ca_jwt: { type: "boolean", description: "Accepted from Vault clients; unused." },
  token_reviewer_jwt: {
    type: "string",
    description: "Refused when set: Coffer never calls the TokenReview API.",
  },
  use_annotations_as_alias_metadata: {
    type: "boolean",
    description: "Refused when set: Coffer never calls the cluster.",
  },
} as const satisfies FieldSchema;

function jwksText(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  if (typeof value === "object" && !Array.isArray(value)) return JSON.stringify(value);
  if (typeof value !== "string") throw invalidRequest('invalid value for "jwks": expected a JWKS document');
  try {
    JSON.parse(value);
  } catch {
    throw invalidRequest('invalid value for "jwks": not valid JSON');
  }
  return value;
}

function url(given: string | undefined, name: string): string {
  const value = given?.trim() ?? "";
  if (value === "") return "";
  const problem = urlProblem(value);
  if (problem) throw invalidRequest(`invalid value for "${name}": ${problem}`);
  return value;
}

/**
 * A configuration from a write request, validated (static keys included) before anything
 * is stored, with a warning for each static key that can never verify a token.
 */
export async function configFromRequest(
  fields: FieldValues<typeof CONFIG_FIELDS>,
): Promise<{ config: KubernetesConfig; warnings: string[] }> {
  if (fields.token_reviewer_jwt) {
    throw invalidRequest(
      '"token_reviewer_jwt" is not used: Coffer verifies tokens offline and never calls the TokenReview API',
    );
  }
  if (fields.use_annotations_as_alias_metadata) {
    throw invalidRequest(
      '"use_annotations_as_alias_metadata" is not supported: Coffer never calls the cluster',
    );
  }
  const pemKeys = fields.pem_keys;
  const pubkeys = fields.jwt_validation_pubkeys;
  if (pemKeys?.length && pubkeys?.length) {
    throw invalidRequest('set "pem_keys" or "jwt_validation_pubkeys", not both');
  }
  const config: KubernetesConfig = {
    oidcDiscoveryUrl: url(fields.oidc_discovery_url, "oidc_discovery_url"),
    jwksUrl: url(fields.jwks_url, "jwks_url"),
    pemKeys: pemKeys?.length ? pemKeys : (pubkeys ?? []),
    jwks: jwksText(fields.jwks),
    issuer: fields.issuer?.trim() ?? "",
    disableIssValidation: fields.disable_iss_validation,
    allowLegacyTokens: fields.allow_legacy_tokens,
    clockSkewLeeway: fields.clock_skew_leeway ?? DEFAULT_LEEWAY_SECONDS,
    jwtSupportedAlgs: [...ALLOWED_ALGORITHMS],
    kubernetesHost: fields.kubernetes_host ?? "",
    kubernetesCaCert: fields.kubernetes_ca_cert ?? "",
    revision: crypto.randomUUID(),
  };

  const algs = fields.jwt_supported_algs;
  if (algs && algs.length > 0) {
    const refused = algs.filter((alg) => !isAllowedAlgorithm(alg));
    if (refused.length > 0) {
      throw invalidRequest(
        `invalid value for "jwt_supported_algs": ${refused.join(", ")} not accepted; choose from ${ALLOWED_ALGORITHMS.join(", ")}`,
      );
    }
    config.jwtSupportedAlgs = [...new Set(algs)] as Algorithm[];
  }
  if (config.clockSkewLeeway > MAX_LEEWAY_SECONDS) {
    throw invalidRequest(`invalid value for "clock_skew_leeway": at most ${MAX_LEEWAY_SECONDS} seconds`);
  }

  const sources = [
    config.oidcDiscoveryUrl !== "",
    config.jwksUrl !== "",
    config.pemKeys.length > 0 || config.jwks !== "",
  ].filter(Boolean).length;
  if (sources === 0) {
    throw invalidRequest(
      'configure where the signing keys come from: "oidc_discovery_url", "jwks_url", or static keys in "pem_keys" / "jwks"',
    );
  }
  if (sources > 1) {
    throw invalidRequest(
      'choose one key source: "oidc_discovery_url", "jwks_url", or static "pem_keys" / "jwks"',
    );
  }
  if (!config.disableIssValidation && config.issuer === "" && config.oidcDiscoveryUrl === "") {
    throw invalidRequest(
      '"issuer" is required: set it to the cluster\'s service account issuer (or set "disable_iss_validation")',
    );
  }
  const warnings: string[] = [];
  if (sources === 1 && (config.pemKeys.length > 0 || config.jwks !== "")) {
    const jwks = config.jwks === "" ? undefined : JSON.parse(config.jwks);
    const { keys, unusable } = await parseStaticKeys(config.pemKeys, jwks, config.jwtSupportedAlgs);
    if (keys.length === 0) {
      const problems = unusable.map(({ where, why }) => `${where}: ${why}`);
      throw invalidRequest(
        `no usable signing key, so no token could ever verify: ${problems.join("; ") || "the JWKS holds no keys"}`,
      );
    }
    for (const { where, why } of unusable) warnings.push(`${where} is not used: ${why}`);
  }
  return { config, warnings };
}

export function configToItem(key: ItemKey, config: KubernetesConfig): Item {
  return {
    ...key,
    oidc_discovery_url: config.oidcDiscoveryUrl,
    jwks_url: config.jwksUrl,
    pem_keys: config.pemKeys,
    jwks: config.jwks,
    issuer: config.issuer,
    disable_iss_validation: config.disableIssValidation,
    allow_legacy_tokens: config.allowLegacyTokens,
    clock_skew_leeway: config.clockSkewLeeway,
    jwt_supported_algs: config.jwtSupportedAlgs,
    kubernetes_host: config.kubernetesHost,
    kubernetes_ca_cert: config.kubernetesCaCert,
    revision: config.revision,
  };
}

export function configFromItem(item: Item): KubernetesConfig {
  return {
    oidcDiscoveryUrl: String(item.oidc_discovery_url ?? ""),
    jwksUrl: String(item.jwks_url ?? ""),
    pemKeys: (item.pem_keys as string[]) ?? [],
    jwks: String(item.jwks ?? ""),
    issuer: String(item.issuer ?? ""),
    disableIssValidation: item.disable_iss_validation === true,
    allowLegacyTokens: item.allow_legacy_tokens === true,
    clockSkewLeeway: Number(item.clock_skew_leeway ?? DEFAULT_LEEWAY_SECONDS),
    jwtSupportedAlgs: ((item.jwt_supported_algs as string[]) ?? [...ALLOWED_ALGORITHMS]).filter(
      isAllowedAlgorithm,
    ),
    kubernetesHost: String(item.kubernetes_host ?? ""),
    kubernetesCaCert: String(item.kubernetes_ca_cert ?? ""),
    revision: String(item.revision ?? ""),
  };
}

export function describeConfig(config: KubernetesConfig): JsonObject {
  return {
    oidc_discovery_url: config.oidcDiscoveryUrl,
    jwks_url: config.jwksUrl,
    pem_keys: config.pemKeys,
    jwks: config.jwks === "" ? null : JSON.parse(config.jwks),
    issuer: config.issuer,
    disable_iss_validation: config.disableIssValidation,
    allow_legacy_tokens: config.allowLegacyTokens,
    clock_skew_leeway: config.clockSkewLeeway,
    jwt_supported_algs: config.jwtSupportedAlgs,
    kubernetes_host: config.kubernetesHost,
    kubernetes_ca_cert: config.kubernetesCaCert,
    disable_local_ca_jwt: false,
  };
}
