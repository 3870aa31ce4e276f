/**
 * What each function may do, action by action, resource by resource. Nothing comes from
 * SST links: linking a table grants dynamodb:* on it. A change here widens or narrows
 * what a compromised function could do, so the infrastructure tests pin every line.
 *
 * Resources are generic so the same statements serve plain ARNs and deploy-time outputs.
 */
import type { TargetRole } from "./target-roles.ts";

export interface Condition {
  test: string;
  variable: string;
  values: string[];
}

export interface Statement<R> {
  actions: string[];
  resources: (R | string)[];
  conditions?: Condition[];
}

/** What the broker's store adapter calls: reads are strongly consistent; writes go one by one or in a transaction. */
export const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];
// TransactWriteItems is authorized item by item against these actions.
export const TABLE_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"];

/** The keyring wraps and unwraps its versions; nothing else ever reaches KMS. */
export const KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"];
/** Every encryption context the broker uses carries app=coffer (shared/crypto/keyring.ts). */
export const KEY_CONTEXT = { variable: "kms:EncryptionContext:app", value: "coffer" };

export const ASSUME_ACTIONS = ["sts:AssumeRole", "sts:TagSession"];
/**
 * Early revocation writes a Deny into an inline policy of the target role, and prunes it
 * later. The engine keeps what it denied in the table, so it never reads the policy back:
 * no iam:GetRolePolicy.
 */
export const REVOKE_ACTIONS = ["iam:PutRolePolicy", "iam:DeleteRolePolicy"];

export const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"];

export interface BrokerResources<R> {
  tableArn: R;
  /** With a second region: the other region's replica of the table, which serves its home-class requests. */
  otherTableArn?: R;
  keyArn: R;
  /** The function's own log group, as `<log group ARN>:*` (its streams). */
  logStreamsArn: R;
  targetRoles: readonly TargetRole[];
  /**
   * The permissions boundary every target role must carry for the broker to edit its
   * inline policies. iam:PutRolePolicy can write any statement, so without a boundary a
   * compromised broker could widen a role it is able to assume; with one, what it writes
   * can never exceed the boundary.
   */
  targetRoleBoundary?: string;
}

function storageAndKey<R>(resources: BrokerResources<R>): Statement<R>[] {
  return [
    {
      actions: [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS],
      resources: [resources.tableArn, ...(resources.otherTableArn ? [resources.otherTableArn] : [])],
    },
    {
      actions: [...KEY_ACTIONS],
      resources: [resources.keyArn],
      conditions: [{ test: "StringEquals", variable: KEY_CONTEXT.variable, values: [KEY_CONTEXT.value] }],
    },
    { actions: [...LOG_ACTIONS], resources: [resources.logStreamsArn] },
  ];
}

function revokeStatement<R>(resources: BrokerResources<R>): Statement<R> {
  const boundary = resources.targetRoleBoundary;
  return {
    actions: [...REVOKE_ACTIONS],
    resources: [...resources.targetRoles],
    ...(boundary !== undefined && {
      conditions: [{ test: "StringEquals", variable: "iam:PermissionsBoundary", values: [boundary] }],
    }),
  };
}

/** The API issues AWS credentials (AssumeRole with session tags) and revokes them early on request. */
export function apiStatements<R>(resources: BrokerResources<R>): Statement<R>[] {
  return [
    ...storageAndKey(resources),
    ...(resources.targetRoles.length > 0
      ? [{ actions: [...ASSUME_ACTIONS], resources: [...resources.targetRoles] }, revokeStatement(resources)]
      : []),
  ];
}

/** The revoker never issues credentials: it only edits the target roles' revocation policy. */
export function revokerStatements<R>(resources: BrokerResources<R>): Statement<R>[] {
  return [
    ...storageAndKey(resources),
    ...(resources.targetRoles.length > 0 ? [revokeStatement(resources)] : []),
  ];
}

/** The injector answers from the pod alone: it may write its log, and nothing else. */
export function injectorStatements<R>(resources: { logStreamsArn: R }): Statement<R>[] {
  return [{ actions: [...LOG_ACTIONS], resources: [resources.logStreamsArn] }];
}
