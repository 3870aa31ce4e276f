/**
 * The configuration both functions read (functions/aws-broker.ts, awsConfigFromEnv): the
 * table, the key, the cluster name when one is set, the audit option, the home region of a
 * stage in two regions, tracing when it is on (stacks/tracing.ts), and the namespace of
 * the metrics they write (functions/metrics.ts, read by stacks/alarms.ts). Nothing secret
 * goes here; Lambda shows environment variables to anyone allowed
 * lambda:GetFunctionConfiguration.
 */
import { homeRegionEnvironment } from "./regions.ts";
import type { StageSettings } from "./stage-settings.ts";
import { TRACING_VARIABLE } from "./tracing.ts";

/** Where the functions' metrics go: one namespace per stage. */
export function metricsNamespace(stage: string): string {
  return `Coffer/${stage}`;
}

export function brokerEnvironment(
  settings: StageSettings,
  tableName: $util.Input<string>,
  keyArn: $util.Input<string>,
): Record<string, $util.Input<string>> {
  return {
    COFFER_TABLE: tableName,
    COFFER_KMS_KEY_ID: keyArn,
    COFFER_METRICS_NAMESPACE: metricsNamespace(settings.stage),
    ...(settings.clusterName !== undefined && { COFFER_CLUSTER_NAME: settings.clusterName }),
    ...(settings.auditHashNonStrings && { COFFER_AUDIT_HASH_NON_STRINGS: "true" }),
    ...homeRegionEnvironment(settings),
    ...(settings.tracing && { [TRACING_VARIABLE]: "true" }),
  };
}
