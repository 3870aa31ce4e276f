/**
 * The signals an operator of a secrets broker must not miss, each an alarm on one SNS
 * topic (with an email subscription when COFFER_ALARM_EMAIL is set):
 *
 * - the revoker fails, or stops running at all (a schedule disabled, a role broken):
 *   leases then outlive their TTL;
 * - revocation lags: leases are revoked minutes after they expired, or every sweep runs
 *   out of budget with leases still due;
 * - revocations keep failing in the engines (typically IAM refusing the target role);
 * - the API crashes or times out, or Lambda throttles it.
 *
 * Lag and failures come from the revoker's sweep report, one JSON log line per sweep with
 * top-level fields (shared/leases/sweep.ts, SweepReport), turned into metrics by filters.
 * Those need the line to be the whole log event; a saturated revoker shows in Lambda's own
 * Duration metric whatever its logs look like.
 */
import type { StageSettings } from "./stage-settings.ts";

export interface AlarmInput {
  settings: StageSettings;
  apiFunctionName: $util.Input<string>;
  revokerFunctionName: $util.Input<string>;
  revokerLogGroupName: $util.Input<string>;
  /** A sweep that runs this long stopped with leases still due. */
  revokerSweepBudgetMs: number;
}

/** Leases are due within a minute plus a sweep; five minutes late means something is wrong. */
export const LAG_ALARM_MS = 300_000;

export function createAlarms(input: AlarmInput) {
  const { settings } = input;
  const namespace = `Coffer/${settings.stage}`;
  const topic = new aws.sns.Topic("Alarms", {});
  if (settings.alarmEmail !== undefined) {
    new aws.sns.TopicSubscription("AlarmsEmail", {
      topic: topic.arn,
      protocol: "email",
      endpoint: settings.alarmEmail,
    });
  }

  const sweepMetric = (id: string, metricName: string, field: string) =>
    new aws.cloudwatch.LogMetricFilter(id, {
      logGroupName: input.revokerLogGroupName,
      pattern: `{ $.sweep_id = * && $.${field} >= 0 }`,
      metricTransformation: { namespace, name: metricName, value: `$.${field}`, unit: "None" },
    });
  sweepMetric("RevocationLagMetric", "RevocationLagMs", "lag_ms_max");
  sweepMetric("RevocationFailuresMetric", "RevocationFailures", "failed");

  const alarm = (
    id: string,
    description: string,
    args: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions">,
  ) =>
    new aws.cloudwatch.MetricAlarm(id, {
      alarmDescription: `Coffer ${settings.stage}: ${description}`,
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      ...args,
    });
  const lambda = (functionName: $util.Input<string>, metricName: string) => ({
    namespace: "AWS/Lambda",
    metricName,
    dimensions: { FunctionName: functionName },
  });

  alarm("RevokerFailingAlarm", "the revoker failed in 3 of the last 5 minutes", {
    ...lambda(input.revokerFunctionName, "Errors"),
    statistic: "Sum",
    period: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("RevokerStoppedAlarm", "the revoker has not run for 10 minutes", {
    ...lambda(input.revokerFunctionName, "Invocations"),
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 2,
    threshold: 1,
    comparisonOperator: "LessThanThreshold",
    // No data is exactly the failure this alarm is for.
    treatMissingData: "breaching",
  });
  alarm("RevokerSaturatedAlarm", "every sweep for 5 minutes ran out of budget: expired leases are waiting", {
    ...lambda(input.revokerFunctionName, "Duration"),
    // Minimum: even the shortest sweep of the minute used its whole budget.
    statistic: "Minimum",
    period: 60,
    evaluationPeriods: 5,
    threshold: input.revokerSweepBudgetMs,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("RevocationLagAlarm", "leases are revoked more than 5 minutes after they expire", {
    namespace,
    metricName: "RevocationLagMs",
    statistic: "Maximum",
    period: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: LAG_ALARM_MS,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("RevocationFailuresAlarm", "lease revocations have failed for 15 minutes", {
    namespace,
    metricName: "RevocationFailures",
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 3,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("ApiErrorsAlarm", "the API crashed or timed out 5 times in 5 minutes", {
    ...lambda(input.apiFunctionName, "Errors"),
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 5,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("ApiThrottledAlarm", "Lambda throttled the API (concurrency exhausted)", {
    ...lambda(input.apiFunctionName, "Throttles"),
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });

  return { topic };
}
