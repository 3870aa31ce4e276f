/**
 * The key policy of the KMS key Coffer creates. KMS's default policy hands the whole key
 * to the account ("kms:*" for the root principal), so any role whose IAM policy says
 * kms:Decrypt on "*" (common for roles that read SSM or Secrets Manager) could unwrap the
 * keyring. Here the account keeps administration, and using the key to wrap or unwrap is
 * reserved to the broker's own roles and, when configured, the named key users, always
 * with Coffer's encryption context.
 *
 * What this cannot stop: a principal allowed kms:PutKeyPolicy can rewrite the policy.
 * Keep that permission for the people who administer the account.
 */
import { KEY_ACTIONS, KEY_CONTEXT } from "./function-permissions.ts";

/** Everything but using the key for data and delegating that use (no kms:CreateGrant). */
export const KEY_ADMIN_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:RetireGrant",
  "kms:RevokeGrant",
  "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
];

/**
 * What operators do with the key: what the broker does, plus wrapping a key they hold,
 * which `coffer operator import` does to take over an archive's keyring. The functions
 * never wrap a key they hold, and may not.
 */
export const OPERATOR_KEY_ACTIONS = [...KEY_ACTIONS, "kms:Encrypt"];

export interface KeyPolicyInput {
  /** arn:<partition>:iam::<account>:root */
  accountRoot: string;
  brokerRoleArns: readonly string[];
  /** Undefined: the account, that is, whoever its IAM policies allow (KMS's usual model). */
  keyUsers?: readonly string[];
}

export function rootKeyPolicy(input: KeyPolicyInput): string {
  const context = { StringEquals: { [KEY_CONTEXT.variable]: KEY_CONTEXT.value } };
  const users = input.keyUsers ?? [input.accountRoot];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersTheKey",
        Effect: "Allow",
        Principal: { AWS: input.accountRoot },
        Action: KEY_ADMIN_ACTIONS,
        // In a key policy, "*" means this key and nothing else.
        Resource: "*",
      },
      {
        Sid: "BrokerUsesTheKey",
        Effect: "Allow",
        Principal: { AWS: [...input.brokerRoleArns] },
        Action: KEY_ACTIONS,
        Resource: "*",
        Condition: context,
      },
      ...(users.length > 0
        ? [
            {
              Sid: "OperatorsUseTheKey",
              Effect: "Allow",
              Principal: { AWS: [...users] },
              Action: OPERATOR_KEY_ACTIONS,
              Resource: "*",
              Condition: context,
            },
          ]
        : []),
    ],
  });
}
