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
import { invalidRequest } from "../../errors.ts";
import {
  optionalBoolean,
  optionalDuration,
  optionalString,
  optionalStringList,
  rejectUnknownFields,
} from "../../http/fields.ts";
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

const FIELDS = [
  "oidc_discovery_url",
  "jwks_url",
  "pem_keys",
  "jwt_validation_pubkeys",
  "jwks",
  "issuer",
  "disable_iss_validation",
  "allow_legacy_tokens",
  "clock_skew_leeway",
  "jwt_supported_algs",
  "kubernetes_host",
  "kubernetes_ca_cert",
  "disable_local_ca_jwt",
  "token_reviewer_jwt",
  "use_annotations_as_alias_metadata",
];

function jwksText(data: JsonObject): string {
  const value = data.jwks;
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

function url(data: JsonObject, name: string): string {
  const value = optionalString(data, name)?.trim() ?? "";
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
  data: JsonObject,
): Promise<{ config: KubernetesConfig; warnings: string[] }> {
  rejectUnknownFields(data, FIELDS);
  if (optionalString(data, "token_reviewer_jwt")) {
    throw invalidRequest(
      '"token_reviewer_jwt" is not used: Coffer verifies tokens offline and never calls the TokenReview API',
    );
  }
  if (optionalBoolean(data, "use_annotations_as_alias_metadata")) {
    throw invalidRequest(
      '"use_annotations_as_alias_metadata" is not supported: Coffer never calls the cluster',
    );
  }
  const pemKeys = optionalStringList(data, "pem_keys");
  const pubkeys = optionalStringList(data, "jwt_validation_pubkeys");
  if (pemKeys?.length && pubkeys?.length) {
    throw invalidRequest('set "pem_keys" or "jwt_validation_pubkeys", not both');
  }
  const config: KubernetesConfig = {
    oidcDiscoveryUrl: url(data, "oidc_discovery_url"),
    jwksUrl: url(data, "jwks_url"),
    pemKeys: pemKeys?.length ? pemKeys : (pubkeys ?? []),
    jwks: jwksText(data),
    issuer: optionalString(data, "issuer")?.trim() ?? "",
    disableIssValidation: optionalBoolean(data, "disable_iss_validation") ?? false,
    allowLegacyTokens: optionalBoolean(data, "allow_legacy_tokens") ?? false,
    clockSkewLeeway: optionalDuration(data, "clock_skew_leeway") ?? DEFAULT_LEEWAY_SECONDS,
    jwtSupportedAlgs: [...ALLOWED_ALGORITHMS],
    kubernetesHost: optionalString(data, "kubernetes_host") ?? "",
    kubernetesCaCert: optionalString(data, "kubernetes_ca_cert") ?? "",
    revision: crypto.randomUUID(),
  };
  // Accepted from Vault clients, type-checked, and otherwise unused.
  optionalBoolean(data, "disable_local_ca_jwt");

  const algs = optionalStringList(data, "jwt_supported_algs");
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
