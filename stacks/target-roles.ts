/**
 * The IAM roles the broker may assume for the AWS secrets engine (sts:AssumeRole,
 * sts:TagSession) and may edit for early revocation (iam:*RolePolicy). They are named in
 * the stage configuration, either one by one or as every role under an IAM path.
 *
 * A whole-account pattern is refused: iam:PutRolePolicy on every role would let the broker
 * grant itself anything, starting with its own execution role. A path (`role/coffer/*`)
 * keeps the target roles apart from everything else, the broker's own roles included.
 */

export type TargetRole = string;

const PARTITIONS = "aws|aws-cn|aws-us-gov";
// IAM's own character set for role paths and names.
const SEGMENT = "[A-Za-z0-9+=,.@_-]+";
const ROLE_ARN = new RegExp(`^arn:(?:${PARTITIONS}):iam::\\d{12}:role/(?:${SEGMENT}/)*${SEGMENT}$`);
const ROLE_PATH_PATTERN = new RegExp(`^arn:(?:${PARTITIONS}):iam::\\d{12}:role/(?:${SEGMENT}/)+\\*$`);

/** Why `entry` cannot be a target role, or undefined when it can. */
export function targetRoleProblem(entry: string): string | undefined {
  if (ROLE_ARN.test(entry) || ROLE_PATH_PATTERN.test(entry)) return undefined;
  if (/:role\/\*$/.test(entry) || entry === "*") {
    return `"${entry}" would cover every role in the account: name roles, or a path such as role/coffer-targets/*`;
  }
  if (entry.includes("*") || entry.includes("?")) {
    return `"${entry}" has a wildcard outside a trailing "/*" after an IAM path`;
  }
  return `"${entry}" is not an IAM role ARN (arn:aws:iam::<account>:role/[<path>/]<name>)`;
}

/**
 * Parses a comma-separated list. "none" means no target roles: the AWS secrets engine is
 * then unusable, which is the right default when nobody has said which roles it may use.
 */
export function parseTargetRoles(value: string): { roles: TargetRole[]; problems: string[] } {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 1 && entries[0] === "none") return { roles: [], problems: [] };
  if (entries.length === 0) {
    return { roles: [], problems: ['an empty list: name the roles, or write "none"'] };
  }
  const problems = entries.flatMap((entry) => targetRoleProblem(entry) ?? []);
  return { roles: [...new Set(entries)], problems };
}
