/**
 * What differs between one deployment of Coffer and the next, read from COFFER_*
 * environment variables (SST also loads them from `.env` and `.env.<stage>`). Everything
 * is checked before a single resource is declared, and every problem is reported at once:
 * a half-understood configuration must stop the deploy, not deploy something else.
 */
import { commaList } from "./comma-list.ts";
import { type IngressSettings, readIngressSettings } from "./ingress-settings.ts";
import { readSecondaryRegion } from "./region-settings.ts";
import { parseTargetRoles, type TargetRole } from "./target-roles.ts";
import { readTracing, TRACING_VARIABLE } from "./tracing.ts";
import { readVpcSettings, type VpcSettings } from "./vpc.ts";

export interface StageSettings {
  stage: string;
  /** Production stages keep their data: deletion protection, retention, longer logs. */
  production: boolean;
  /** Roles the AWS secrets engine may assume and revoke on; empty disables it. */
  targetRoles: TargetRole[];
  /** The permissions boundary target roles must carry for the broker to edit them (see function-permissions.ts). */
  targetRoleBoundary?: string;
  /** Use this KMS key instead of creating one. */
  existingKeyArn?: string;
  /**
   * Principals other than the broker's functions allowed to use the created key (operators
   * running `coffer operator init`). Undefined: any principal of the account whose IAM
   * policies allow it, which is how a KMS key behaves by default. Empty ("none"): nobody.
   */
  keyUsers?: string[];
  clusterName?: string;
  /** Hash numbers and booleans in audit records too (Vault leaves them in clear). */
  auditHashNonStrings?: boolean;
  alarmEmail?: string;
  logRetentionDays: number;
  /** Private subnets and security groups for both functions (a database in a VPC); none by default. */
  vpc?: VpcSettings;
  /** How clients reach the API (stacks/ingress-settings.ts): a public function URL by default. */
  ingress: IngressSettings;
  /** A second region serving the API on a replica of the table and the key (stacks/region-settings.ts). */
  secondaryRegion?: string;
  /** X-Ray tracing of both broker functions (stacks/tracing.ts); off by default. */
  tracing?: boolean;
}

export class StageSettingsError extends Error {
  override readonly name = "StageSettingsError";
  constructor(readonly problems: readonly string[]) {
    super(
      `the stage configuration is not usable:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
  }
}

const PRODUCTION_STAGES = new Set(["production", "prod"]);

// The only values CloudWatch Logs accepts (0 keeps logs forever).
const RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** Audit records live in these logs: a year by default where it matters. */
const DEFAULT_RETENTION_DAYS = { production: 365, other: 14 };

const KMS_KEY_ARN =
  /^arn:(?:aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/;
const POLICY_ARN = /^arn:(?:aws|aws-cn|aws-us-gov):iam::(?:\d{12}|aws):policy\/[A-Za-z0-9+=,.@_/-]+$/;
const IAM_PRINCIPAL_ARN = /^arn:(?:aws|aws-cn|aws-us-gov):iam::\d{12}:(?:role|user)\/[A-Za-z0-9+=,.@_/-]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Function names are <app>-<stage>-<function>, and Lambda allows 64 characters.
const MAX_STAGE_LENGTH = 40;
const STAGE = new RegExp(`^[A-Za-z0-9-]{1,${MAX_STAGE_LENGTH}}$`);
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function readStageSettings(stage: string, env: Record<string, string | undefined>): StageSettings {
  const problems: string[] = [];
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };

  if (!STAGE.test(stage)) {
    problems.push(
      `the stage name "${stage}" must be 1 to ${MAX_STAGE_LENGTH} letters, digits or "-" (it prefixes function names)`,
    );
  }
  const production = readProduction(stage, value("COFFER_PRODUCTION"), problems);

  let targetRoles: TargetRole[] = [];
  const targetRolesValue = value("COFFER_TARGET_ROLES");
  if (targetRolesValue === undefined) {
    // On production, an unset variable is more likely a forgotten .env file than a decision,
    // and deploying without it would silently take away the revoker's IAM permissions.
    if (production) {
      problems.push(
        'COFFER_TARGET_ROLES must be set on a production stage: role ARNs, role path patterns such as arn:aws:iam::123456789012:role/coffer-targets/*, or "none"',
      );
    }
  } else {
    const parsed = parseTargetRoles(targetRolesValue);
    problems.push(...parsed.problems.map((problem) => `COFFER_TARGET_ROLES: ${problem}`));
    targetRoles = parsed.roles;
  }

  const targetRoleBoundary = value("COFFER_TARGET_ROLE_BOUNDARY");
  if (targetRoleBoundary !== undefined && !POLICY_ARN.test(targetRoleBoundary)) {
    problems.push(
      `COFFER_TARGET_ROLE_BOUNDARY: "${targetRoleBoundary}" is not a managed policy ARN (arn:aws:iam::<account>:policy/[<path>/]<name>)`,
    );
  }

  const existingKeyArn = value("COFFER_KMS_KEY_ARN");
  if (existingKeyArn !== undefined && !KMS_KEY_ARN.test(existingKeyArn)) {
    problems.push(
      `COFFER_KMS_KEY_ARN: "${existingKeyArn}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; aliases cannot carry IAM permissions)`,
    );
  }

  const keyUsersValue = value("COFFER_KEY_USERS");
  let keyUsers: string[] | undefined;
  if (keyUsersValue === "none") {
    keyUsers = [];
  } else if (keyUsersValue !== undefined) {
    keyUsers = commaList(keyUsersValue);
    for (const user of keyUsers) {
      if (!IAM_PRINCIPAL_ARN.test(user)) {
        problems.push(
          `COFFER_KEY_USERS: "${user}" is not an IAM role or user ARN (no wildcards in a key policy)`,
        );
      }
    }
  }
  if (keyUsers !== undefined && existingKeyArn !== undefined) {
    problems.push(
      "COFFER_KEY_USERS applies to a key Coffer creates; an existing key keeps its own key policy",
    );
  }

  const clusterName = value("COFFER_CLUSTER_NAME");
  if (clusterName !== undefined && !CLUSTER_NAME.test(clusterName)) {
    problems.push(`COFFER_CLUSTER_NAME: "${clusterName}" must be 1 to 63 letters, digits, ".", "_" or "-"`);
  }

  const auditHashNonStrings = value("COFFER_AUDIT_HASH_NON_STRINGS");
  if (
    auditHashNonStrings !== undefined &&
    auditHashNonStrings !== "true" &&
    auditHashNonStrings !== "false"
  ) {
    problems.push(`COFFER_AUDIT_HASH_NON_STRINGS: "${auditHashNonStrings}" must be true or false`);
  }

  const alarmEmail = value("COFFER_ALARM_EMAIL");
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push(`COFFER_ALARM_EMAIL: "${alarmEmail}" is not an email address`);
  }

  const logRetentionDays = readRetention(value("COFFER_LOG_RETENTION_DAYS"), production, problems);
  const vpc = readVpcSettings(value("COFFER_VPC_SUBNETS"), value("COFFER_VPC_SECURITY_GROUPS"), problems);
  const ingress = readIngressSettings(value, problems);
  const secondaryRegion = readSecondaryRegion(
    value("COFFER_SECONDARY_REGION"),
    { homeRegion: value("AWS_REGION") ?? value("AWS_DEFAULT_REGION"), ingress, vpc, existingKeyArn },
    problems,
  );
  const tracing = readTracing(value(TRACING_VARIABLE), problems);

  if (problems.length > 0) throw new StageSettingsError(problems);
  return {
    stage,
    production,
    targetRoles,
    ...(targetRoleBoundary !== undefined && { targetRoleBoundary }),
    ...(existingKeyArn !== undefined && { existingKeyArn }),
    ...(keyUsers !== undefined && { keyUsers }),
    ...(clusterName !== undefined && { clusterName }),
    ...(auditHashNonStrings === "true" && { auditHashNonStrings: true }),
    ...(alarmEmail !== undefined && { alarmEmail }),
    logRetentionDays,
    ...(vpc !== undefined && { vpc }),
    ingress,
    ...(secondaryRegion !== undefined && { secondaryRegion }),
    ...(tracing && { tracing }),
  };
}

function readProduction(stage: string, value: string | undefined, problems: string[]): boolean {
  if (value === undefined) return PRODUCTION_STAGES.has(stage);
  if (value === "true") return true;
  if (value === "false") {
    if (PRODUCTION_STAGES.has(stage)) {
      problems.push(`COFFER_PRODUCTION: the "${stage}" stage is always a production stage`);
    }
    return false;
  }
  problems.push(`COFFER_PRODUCTION: "${value}" must be true or false`);
  return false;
}

function readRetention(value: string | undefined, production: boolean, problems: string[]): number {
  const fallback = production ? DEFAULT_RETENTION_DAYS.production : DEFAULT_RETENTION_DAYS.other;
  if (value === undefined) return fallback;
  const days = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!RETENTION_DAYS.includes(days)) {
    problems.push(
      `COFFER_LOG_RETENTION_DAYS: "${value}" is not a CloudWatch Logs retention (one of ${RETENTION_DAYS.join(", ")}; 0 keeps logs forever)`,
    );
    return fallback;
  }
  return days;
}

/**
 * What SST does with the stage's resources when they leave the stack, decided before the
 * rest of the settings are read (SST asks first), the same way readStageSettings decides
 * what is production. A production stage keeps its table, key and logs, and SST refuses to
 * remove it unless COFFER_CONFIRM_REMOVE names that very stage.
 */
export function removalPolicy(
  stage: string,
  env: Record<string, string | undefined>,
): { removal: "retain" | "remove"; protect: boolean } {
  const production = env.COFFER_PRODUCTION?.trim() === "true" || PRODUCTION_STAGES.has(stage);
  return {
    removal: production ? "retain" : "remove",
    protect: production && env.COFFER_CONFIRM_REMOVE?.trim() !== stage,
  };
}
