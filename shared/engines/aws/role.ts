/**
 * A role of the aws engine (Vault's aws/roles/<name>): which IAM roles a caller may assume
 * through it, for how long, and narrowed by which session policy. Coffer issues
 * credential_type "assumed_role" only. Writes merge into the existing role, as Vault's do.
 */
import { invalidRequest } from "../../errors.ts";
import type { Item } from "../../store/item-store.ts";
import type { JsonObject } from "../engine.ts";
import { type FieldSchema, type FieldValues, parseField, rejectNonEmptyFields } from "../fields.ts";

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

const unsupported = { type: "any", description: "Refused when set: not an assumed_role feature." } as const;

/** The fields of aws/roles/<name> besides the name, as Vault declares them. */
export const ROLE_FIELDS = {
  credential_type: { type: "string", description: `The kind of credentials: "${ASSUMED_ROLE}" only.` },
  role_arns: { type: "stringList", description: "The IAM roles a caller may assume through the role." },
  policy_document: { type: "any", description: "A session policy (JSON text or an object)." },
  policy_arns: { type: "stringList", description: "Managed session policies." },
  default_sts_ttl: {
    type: "duration",
    description: "The credentials' lifetime when a request asks for none.",
  },
  max_sts_ttl: { type: "duration", description: "The longest lifetime a request may ask for." },
  external_id: { type: "string", description: "The external id to assume the roles with." },
  // Vault's fields for credential types or features Coffer does not implement: accepted when empty.
  iam_groups: unsupported,
  iam_tags: unsupported,
  session_tags: unsupported,
  user_path: unsupported,
  permissions_boundary_arn: unsupported,
  mfa_serial_number: unsupported,
  policy: unsupported,
  arn: unsupported,
} as const satisfies FieldSchema;

type RoleFields = FieldValues<typeof ROLE_FIELDS>;

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

function policyDocumentOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  // Vault takes a string; tools that build the body from HCL or YAML often send the document as an object.
  if (typeof value === "object" && !Array.isArray(value)) return compactPolicy(JSON.stringify(value));
  return compactPolicy(parseField(ROLE_FIELDS.policy_document, value, "policy_document") as string);
}

/** The role after a write of `fields` onto `existing` (undefined when creating). */
export function mergeRole(
  existing: AwsRole | undefined,
  fields: RoleFields,
): { role: AwsRole; warnings: string[] } {
  rejectNonEmptyFields(
    {
      iam_groups: fields.iam_groups,
      iam_tags: fields.iam_tags,
      session_tags: fields.session_tags,
      user_path: fields.user_path === "/" ? "" : fields.user_path,
      permissions_boundary_arn: fields.permissions_boundary_arn,
      mfa_serial_number: fields.mfa_serial_number,
      policy: fields.policy,
      arn: fields.arn,
    },
    "aws",
  );
  const credentialType = fields.credential_type;
  if (credentialType !== undefined && credentialType !== ASSUMED_ROLE) {
    throw invalidRequest(
      `credential_type "${credentialType}" is not supported: Coffer issues "${ASSUMED_ROLE}" credentials`,
    );
  }
  const roleArns = fields.role_arns ?? existing?.roleArns ?? [];
  if (roleArns.length === 0)
    throw invalidRequest(`"role_arns" is required for credential_type "${ASSUMED_ROLE}"`);
  if (roleArns.length > MAX_ROLE_ARNS)
    throw invalidRequest(`"role_arns" takes at most ${MAX_ROLE_ARNS} ARNs`);
  for (const arn of roleArns) {
    if (!ROLE_ARN.test(arn))
      throw invalidRequest(`invalid value in "role_arns": "${arn}" is not an IAM role ARN`);
  }
  const policyArns = fields.policy_arns ?? existing?.policyArns ?? [];
  if (policyArns.length > MAX_POLICY_ARNS)
    throw invalidRequest(`"policy_arns" takes at most ${MAX_POLICY_ARNS} ARNs`);
  for (const arn of policyArns) {
    if (!POLICY_ARN.test(arn))
      throw invalidRequest(`invalid value in "policy_arns": "${arn}" is not an IAM policy ARN`);
  }
  const externalId = fields.external_id ?? existing?.externalId ?? "";
  if (externalId !== "" && !EXTERNAL_ID.test(externalId))
    throw invalidRequest('invalid value for "external_id"');
  const role: AwsRole = {
    credentialType: ASSUMED_ROLE,
    roleArns: [...new Set(roleArns)],
    policyDocument: policyDocumentOf(fields.policy_document) ?? existing?.policyDocument ?? "",
    policyArns: [...new Set(policyArns)],
    defaultStsTtl: fields.default_sts_ttl ?? existing?.defaultStsTtl ?? 0,
    maxStsTtl: fields.max_sts_ttl ?? existing?.maxStsTtl ?? 0,
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
export function requestedStsTtl(ttl: number | undefined): number | undefined {
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
