/**
 * The stage's second region (COFFER_SECONDARY_REGION, region-settings.ts): an aws provider
 * for it, and the ARN of the table's replica there. What is deployed there: the table's
 * replica (storage.ts), the root key's replica (keys.ts), and the API behind its own
 * function URL (api.ts), whose home-class requests go to the home region's table
 * (shared/mounts/request-region.ts). The revoker stays in the home region: sweeps claim
 * leases with conditional writes, which are exact in one region only.
 */
import type { StageSettings } from "./stage-settings.ts";

export function createSecondaryProvider(settings: StageSettings): aws.Provider | undefined {
  if (settings.secondaryRegion === undefined) return undefined;
  return new aws.Provider("SecondaryRegion", { region: settings.secondaryRegion as aws.Region });
}

/** The table's replica in `region`: a global table's replicas share the table's name. */
export function tableArnIn(region: string, tableName: $util.Input<string>): $util.Output<string> {
  const partition = aws.getPartitionOutput({}).partition;
  const account = aws.getCallerIdentityOutput({}).accountId;
  return $interpolate`arn:${partition}:dynamodb:${region}:${account}:table/${tableName}`;
}

/** Every broker function's home region, when the stage has a second one (functions/aws-broker.ts). */
export function homeRegionEnvironment(settings: StageSettings): Record<string, $util.Input<string>> {
  if (settings.secondaryRegion === undefined) return {};
  return { COFFER_HOME_REGION: aws.getRegionOutput({}).region };
}
