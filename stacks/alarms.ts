/**
 * The signals an operator of a secrets broker must not miss, each an alarm on one SNS
 * topic (with an email subscription when COFFER_ALARM_EMAIL is set):
 *
 * - the revoker fails, or stops running at all (a schedule disabled, a role broken):
 *   leases then outlive their TTL;
 * - revocation lags: leases are revoked minutes after they expired, or every sweep runs
 *   out of budget with leases still due;
 * - revocations keep failing in the engines (typically IAM refusing the target role);
 * - an item in the table failed authentication: someone who can write to the table but
 *   cannot use the root key changed, moved or forged it (shared/store/authenticated-store.ts);
 * - the API crashes or times out, answers too many requests with a 5xx (503s when KMS,
 *   DynamoDB or STS stay unavailable after retries included), or is throttled, by Lambda
 *   or by the table.
 *
 * Lag, failures and the 5xx rate are metrics the functions write themselves in Embedded
 * Metric Format (functions/metrics.ts): one line per sweep and one per API request,
 * dimension `Function`. A saturated revoker shows in Lambda's own Duration
 * metric whatever its logs look like. A rejected item is rare enough to be counted by a log
 * filter on the line the functions write for it, which costs nothing until it happens.
 */
import { REJECTED_ITEM_MESSAGE } from "../shared/store/authenticated-store.ts";
import { metricsNamespace } from "./broker-environment.ts";
import type { StageSettings } from "./stage-settings.ts";

export interface AlarmInput {
  settings: StageSettings;
  apiFunctionName: $util.Input<string>;
  revokerFunctionName: $util.Input<string>;
  /** The log groups of the functions that read the table, watched for rejected items. */
  logGroupNames: $util.Input<string>[];
  tableName: $util.Input<string>;
  /** A sweep that runs this long stopped with leases still due. */
  revokerSweepBudgetMs: number;
}

/** Leases are due within a minute plus a sweep; five minutes late means something is wrong. */
export const LAG_ALARM_MS = 300_000;
/** The share of API requests answered with a 5xx, over 5 minutes, that pages someone. */
export const SERVER_ERROR_RATE_PERCENT = 5;
/** Below this many requests in 5 minutes, a few failures are not a rate. */
export const SERVER_ERROR_RATE_MIN_REQUESTS = 20;

export function createAlarms(input: AlarmInput) {
  const { settings } = input;
  const namespace = metricsNamespace(settings.stage);
  const topic = new aws.sns.Topic("Alarms", {});
  if (settings.alarmEmail !== undefined) {
    new aws.sns.TopicSubscription("AlarmsEmail", {
      topic: topic.arn,
      protocol: "email",
      endpoint: settings.alarmEmail,
    });
  }

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
  const coffer = (fn: "api" | "revoker", metricName: string) => ({
    namespace,
    metricName,
    dimensions: { Function: fn },
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
    ...coffer("revoker", "RevocationLagMs"),
    statistic: "Maximum",
    period: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: LAG_ALARM_MS,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
  alarm("RevocationFailuresAlarm", "lease revocations have failed for 15 minutes", {
    ...coffer("revoker", "RevocationFailures"),
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

  alarm(
    "ApiServerErrorRateAlarm",
    `more than ${SERVER_ERROR_RATE_PERCENT}% of API requests were answered with a 5xx in 10 of the last 15 minutes`,
    {
      metricQueries: [
        { id: "requests", metric: { ...coffer("api", "Requests"), stat: "Sum", period: 300 } },
        { id: "errors", metric: { ...coffer("api", "ServerErrors"), stat: "Sum", period: 300 } },
        {
          id: "rate",
          label: "5xx rate (%)",
          expression: `IF(requests >= ${SERVER_ERROR_RATE_MIN_REQUESTS}, 100 * errors / requests, 0)`,
          returnData: true,
        },
      ],
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: SERVER_ERROR_RATE_PERCENT,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
  );
  alarm("TableThrottledAlarm", "DynamoDB throttled the table's reads or writes in 3 of the last 5 minutes", {
    metricQueries: [
      {
        id: "reads",
        metric: {
          namespace: "AWS/DynamoDB",
          metricName: "ReadThrottleEvents",
          dimensions: { TableName: input.tableName },
          stat: "Sum",
          period: 60,
        },
      },
      {
        id: "writes",
        metric: {
          namespace: "AWS/DynamoDB",
          metricName: "WriteThrottleEvents",
          dimensions: { TableName: input.tableName },
          stat: "Sum",
          period: 60,
        },
      },
      { id: "throttled", label: "throttle events", expression: "reads + writes", returnData: true },
    ],
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });

  input.logGroupNames.forEach((logGroupName, index) => {
    new aws.cloudwatch.LogMetricFilter(`ItemsRejectedFilter${index}`, {
      logGroupName,
      pattern: `{ $.message = "${REJECTED_ITEM_MESSAGE}" }`,
      metricTransformation: { namespace, name: "ItemsRejected", value: "1" },
    });
  });
  alarm(
    "ItemsRejectedAlarm",
    "an item in the table failed authentication: it was changed by someone without the root key",
    {
      namespace,
      metricName: "ItemsRejected",
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
  );

  return { topic };
}
