/**
 * The configuration both functions read (functions/aws-broker.ts, awsConfigFromEnv): the
 * table, the key, the cluster name when one is set, and the audit option. Nothing secret goes here; Lambda
 * shows environment variables to anyone allowed lambda:GetFunctionConfiguration.
 */
import type { StageSettings } from "./stage-settings.ts";

export function brokerEnvironment(
  settings: StageSettings,
  tableName: $util.Input<string>,
  keyArn: $util.Input<string>,
): Record<string, $util.Input<string>> {
  return {
    COFFER_TABLE: tableName,
    COFFER_KMS_KEY_ID: keyArn,
    ...(settings.clusterName !== undefined && { COFFER_CLUSTER_NAME: settings.clusterName }),
    ...(settings.auditHashNonStrings && { COFFER_AUDIT_HASH_NON_STRINGS: "true" }),
  };
}
