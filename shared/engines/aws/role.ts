/**
 * A role of the aws engine (Vault's aws/roles/<name>): which IAM roles a caller may assume
 * through it, for how long, and narrowed by which session policy. Coffer issues
 * credential_type "assumed_role" only. Writes merge into the existing role, as Vault's do.
 */
import { invalidRequest } from "../../errors.ts";
import {
  optionalDuration,
  optionalString,
  optionalStringList,
  rejectNonEmptyFields,
  rejectUnknownFields,
} from "../../http/fields.ts";
import type { Item } from "../../store/item-store.ts";
import type { JsonObject } from "../engine.ts";

export const ASSUMED_ROLE = "assumed_role";
/** STS's own bounds on DurationSeconds when Coffer assumes a role from a role session (role chaining). */
export const MIN_STS_DURATION_S = 900;
export const MAX_STS_DURATION_S = 3600;
/** STS limits on a session policy (plain text) and on managed session policies. */
const MAX_POLICY_DOCUMENT_CHARS = 2048;
const MAX_POLICY_ARNS = 10;
const MAX_ROLE_ARNS = 32;

export const ROLE_NAME = /^\w(?:[\w.@-]{0,126}\w)?$/;
export const ROLE_ARN = /^arn:[\w-]+:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
const POLICY_ARN = /^arn:[\w-]+:iam::(?:\d{12}|aws):policy\/[\x21-\x7e]{1,512}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

export interface AwsRole {
  credentialType: typeof ASSUMED_ROLE;
  roleArns: string[];
  /** Compact JSON, or "" for none. */
  policyDocument: string;
  policyArns: string[];
  /** Seconds; 0 = the engine's default (3600). */
  defaultStsTtl: number;
  /** Seconds; 0 = the mount's max lease TTL, else 3600. */
  maxStsTtl: number;
  externalId: string;
}

const KNOWN_FIELDS = [
  "credential_type",
  "role_arns",
  "policy_document",
  "policy_arns",
  "default_sts_ttl",
  "max_sts_ttl",
  "external_id",
  // Vault fields for credential types or features Coffer does not implement: accepted when empty.
  "iam_groups",
  "iam_tags",
  "session_tags",
  "user_path",
  "permissions_boundary_arn",
  "mfa_serial_number",
  "policy",
  "arn",
];
const UNSUPPORTED_FIELDS = KNOWN_FIELDS.slice(7);

export function roleFromItem(item: Item): AwsRole {
  return {
    credentialType: ASSUMED_ROLE,
    roleArns: (item.role_arns as string[]) ?? [],
    policyDocument: String(item.policy_document ?? ""),
    policyArns: (item.policy_arns as string[]) ?? [],
    defaultStsTtl: Number(item.default_sts_ttl ?? 0),
    maxStsTtl: Number(item.max_sts_ttl ?? 0),
    externalId: String(item.external_id ?? ""),
  };
}

export function roleToItem(key: { pk: string; sk: string }, role: AwsRole, updatedAt: string): Item {
  return {
    ...key,
    credential_type: role.credentialType,
    role_arns: role.roleArns,
    policy_document: role.policyDocument,
    policy_arns: role.policyArns,
    default_sts_ttl: role.defaultStsTtl,
    max_sts_ttl: role.maxStsTtl,
    external_id: role.externalId,
    updated_at: updatedAt,
  };
}

function compactPolicy(text: string): string {
  if (text.trim() === "") return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest('invalid value for "policy_document": it is not valid JSON');
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw invalidRequest('invalid value for "policy_document": expected a JSON policy document (an object)');
  }
  const compact = JSON.stringify(parsed);
  if (compact.length > MAX_POLICY_DOCUMENT_CHARS) {
    throw invalidRequest(`"policy_document" exceeds STS's limit of ${MAX_POLICY_DOCUMENT_CHARS} characters`);
  }
  return compact;
}

function policyDocumentOf(data: JsonObject): string | undefined {
  const value = data.policy_document;
  if (value === undefined || value === null) return undefined;
  // Vault takes a string; tools that build the body from HCL or YAML often send the document as an object.
  if (typeof value === "object" && !Array.isArray(value)) return compactPolicy(JSON.stringify(value));
  return compactPolicy(optionalString(data, "policy_document") ?? "");
}

/** The role after a write of `data` onto `existing` (undefined when creating). */
export function mergeRole(
  existing: AwsRole | undefined,
  data: JsonObject,
): { role: AwsRole; warnings: string[] } {
  rejectUnknownFields(data, KNOWN_FIELDS);
  rejectNonEmptyFields(
    { ...data, user_path: data.user_path === "/" ? "" : data.user_path },
    UNSUPPORTED_FIELDS,
    "aws",
  );
  const credentialType = optionalString(data, "credential_type");
  if (credentialType !== undefined && credentialType !== ASSUMED_ROLE) {
    throw invalidRequest(
      `credential_type "${credentialType}" is not supported: Coffer issues "${ASSUMED_ROLE}" credentials`,
    );
  }
  const roleArns = optionalStringList(data, "role_arns") ?? existing?.roleArns ?? [];
  if (roleArns.length === 0)
    throw invalidRequest(`"role_arns" is required for credential_type "${ASSUMED_ROLE}"`);
  if (roleArns.length > MAX_ROLE_ARNS)
    throw invalidRequest(`"role_arns" takes at most ${MAX_ROLE_ARNS} ARNs`);
  for (const arn of roleArns) {
    if (!ROLE_ARN.test(arn))
      throw invalidRequest(`invalid value in "role_arns": "${arn}" is not an IAM role ARN`);
  }
  const policyArns = optionalStringList(data, "policy_arns") ?? existing?.policyArns ?? [];
  if (policyArns.length > MAX_POLICY_ARNS)
    throw invalidRequest(`"policy_arns" takes at most ${MAX_POLICY_ARNS} ARNs`);
  for (const arn of policyArns) {
    if (!POLICY_ARN.test(arn))
      throw invalidRequest(`invalid value in "policy_arns": "${arn}" is not an IAM policy ARN`);
  }
  const externalId = optionalString(data, "external_id") ?? existing?.externalId ?? "";
  if (externalId !== "" && !EXTERNAL_ID.test(externalId))
    throw invalidRequest('invalid value for "external_id"');
  const role: AwsRole = {
    credentialType: ASSUMED_ROLE,
    roleArns: [...new Set(roleArns)],
    policyDocument: policyDocumentOf(data) ?? existing?.policyDocument ?? "",
    policyArns: [...new Set(policyArns)],
    defaultStsTtl: optionalDuration(data, "default_sts_ttl") ?? existing?.defaultStsTtl ?? 0,
    maxStsTtl: optionalDuration(data, "max_sts_ttl") ?? existing?.maxStsTtl ?? 0,
    externalId,
  };
  if (role.maxStsTtl > 0 && role.defaultStsTtl > role.maxStsTtl) {
    throw invalidRequest('"default_sts_ttl" cannot exceed "max_sts_ttl"');
  }
  const warnings: string[] = [];
  for (const [name, value] of [
    ["default_sts_ttl", role.defaultStsTtl],
    ["max_sts_ttl", role.maxStsTtl],
  ] as const) {
    if (value !== 0 && (value < MIN_STS_DURATION_S || value > MAX_STS_DURATION_S)) {
      warnings.push(
        `${name} ${value}s is outside ${MIN_STS_DURATION_S}..${MAX_STS_DURATION_S}s: credentials are clamped to that ` +
          "range (Coffer assumes roles from its own role session, which STS caps at one hour)",
      );
    }
  }
  return { role, warnings };
}

/** Vault's read shape, with the fields of unsupported features present and empty. */
export function describeRole(role: AwsRole): JsonObject {
  return {
    credential_type: role.credentialType,
    role_arns: role.roleArns,
    policy_document: role.policyDocument,
    policy_arns: role.policyArns,
    default_sts_ttl: role.defaultStsTtl,
    max_sts_ttl: role.maxStsTtl,
    external_id: role.externalId,
    iam_groups: [],
    iam_tags: {},
    session_tags: {},
    user_path: "",
    permissions_boundary_arn: "",
    mfa_serial_number: "",
  };
}

/**
 * The `ttl` of a creds request: undefined (the role's default) when absent or 0, as for
 * Vault's TTLs. Below STS's minimum it is refused rather than raised, so a caller asking
 * for short-lived credentials never gets longer-lived ones without knowing.
 */
export function requestedStsTtl(data: JsonObject): number | undefined {
  const ttl = optionalDuration(data, "ttl");
  if (ttl === undefined || ttl === 0) return undefined;
  if (ttl < MIN_STS_DURATION_S) {
    throw invalidRequest(
      `invalid value for "ttl": ${ttl}s is below ${MIN_STS_DURATION_S}s (15m), the shortest AWS STS allows; ` +
        "omit it or give 0 for the role's default",
    );
  }
  return ttl;
}

/**
 * The STS duration for a request: requested (0 = not given) or default, capped by the max
 * as Vault caps it, clamped to STS's range.
 */
export function stsDuration(role: AwsRole, requested: number | undefined, mountMaxTtl: number): number {
  const max = role.maxStsTtl || mountMaxTtl || MAX_STS_DURATION_S;
  const ttl = Math.min(requested || role.defaultStsTtl || MAX_STS_DURATION_S, max);
  return Math.min(MAX_STS_DURATION_S, Math.max(MIN_STS_DURATION_S, ttl));
}
