/**
 * The root of the key hierarchy: a symmetric KMS key with yearly automatic rotation and an
 * alias, or a key the operator already has (COFFER_KMS_KEY_ARN), which Coffer then neither
 * creates nor changes. The key policy of a created key is applied once the broker's roles
 * exist (see key-policy.ts); roles name the key, and the key names the roles, so the
 * policy is its own resource rather than an argument of the key.
 */
import { rootKeyPolicy } from "./key-policy.ts";
import type { StageSettings } from "./stage-settings.ts";

export interface RootKey {
  arn: $util.Output<string>;
  /** The replica key in the second region, when there is one: the same key id, that region's ARN. */
  replicaArn?: $util.Output<string>;
  /** Restricts use of a created key to these roles; does nothing for an existing key. */
  allowRoles(roleArns: $util.Input<string>[]): void;
}

export function createRootKey(settings: StageSettings, secondary?: aws.Provider): RootKey {
  if (settings.existingKeyArn !== undefined) {
    return { arn: $output(settings.existingKeyArn), allowRoles: () => {} };
  }

  const key = new aws.kms.Key(
    "RootKey",
    {
      description: `Coffer ${settings.stage}: wraps the keyring`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      // Scheduled deletion can be cancelled during the window; production gets the longest one.
      deletionWindowInDays: settings.production ? 30 : 7,
      // Only a key created multi-Region can have a replica in the second region.
      multiRegion: settings.secondaryRegion !== undefined,
    },
    // KMS cannot make an existing key multi-Region: replacing the key would orphan the
    // keyring it wraps, so a stage that adds a region keeps its key and the replica fails
    // to deploy instead (docs/deploy.md says how such a stage moves).
    { retainOnDelete: settings.production, ignoreChanges: ["multiRegion"] },
  );
  const replica =
    secondary &&
    new aws.kms.ReplicaKey(
      "RootKeyReplica",
      {
        primaryKeyArn: key.arn,
        description: `Coffer ${settings.stage}: wraps the keyring (replica of the multi-Region root key)`,
        deletionWindowInDays: settings.production ? 30 : 7,
      },
      { provider: secondary, retainOnDelete: settings.production },
    );
  new aws.kms.Alias("RootKeyAlias", { name: `alias/${$app.name}-${settings.stage}`, targetKeyId: key.keyId });

  return {
    arn: key.arn,
    ...(replica && { replicaArn: replica.arn }),
    allowRoles(roleArns) {
      const identity = aws.getCallerIdentityOutput({});
      const partition = aws.getPartitionOutput({});
      const accountRoot = $interpolate`arn:${partition.partition}:iam::${identity.accountId}:root`;
      const policy = $resolve([accountRoot, ...roleArns]).apply(([root, ...brokerRoleArns]) =>
        rootKeyPolicy({
          accountRoot: root,
          brokerRoleArns,
          ...(settings.keyUsers !== undefined && { keyUsers: settings.keyUsers }),
        }),
      );
      new aws.kms.KeyPolicy("RootKeyPolicy", { keyId: key.keyId, policy });
      // A replica has a key policy of its own: the same one.
      if (replica) {
        new aws.kms.KeyPolicy(
          "RootKeyReplicaPolicy",
          { keyId: replica.keyId, policy },
          { provider: secondary },
        );
      }
    },
  };
}
