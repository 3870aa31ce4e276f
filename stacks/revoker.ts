/**
 * The revoker: a function EventBridge Scheduler invokes every minute to revoke the leases
 * that have expired. Each invocation sweeps for the time it has left minus a margin
 * (functions/revoker.ts), so the Lambda timeout is what sets the sweep budget: 60 s is a
 * 45 s sweep and 15 s for the revocations still in flight and the report, and fits the
 * one-minute schedule. What a sweep does not finish, the next tick continues. Scheduler
 * does not retry a failed tick: the next one is a minute away and does the same work.
 */
import { brokerEnvironment } from "./broker-environment.ts";
import { createBrokerFunction } from "./broker-function.ts";
import { revokerStatements } from "./function-permissions.ts";
import type { StageSettings } from "./stage-settings.ts";

export const REVOKER_SCHEDULE = "rate(1 minute)";
/**
 * A sweep is bound by CPU (docs/benchmarks.md, the revoker), and Lambda gives one vCPU per
 * 1,769 MB: the whole vCPU revokes 100,000 leases due at once within ten minutes, where
 * 256 MB took most of an hour. Billed per GB-second, a lease costs the same at any size;
 * only the idle ticks cost more, cents a month (docs/deploy.md).
 */
export const REVOKER_MEMORY = "1769 MB";
export const REVOKER_TIMEOUT_SECONDS = 60;
/** functions/revoker.ts stops starting revocations this long before the timeout (a test keeps the two equal). */
export const REVOKER_MARGIN_MS = 15_000;
/** How long a sweep may run: one that lasts this long ran out of budget with leases still due. */
export const REVOKER_SWEEP_BUDGET_MS = REVOKER_TIMEOUT_SECONDS * 1000 - REVOKER_MARGIN_MS;

export interface RevokerInput {
  settings: StageSettings;
  bundle: string;
  tableName: $util.Input<string>;
  tableArn: $util.Input<string>;
  keyArn: $util.Input<string>;
}

export function createRevoker(input: RevokerInput) {
  const { fn, logGroup } = createBrokerFunction("Revoker", {
    settings: input.settings,
    name: "revoker",
    description: "Coffer: revokes expired leases every minute",
    bundle: input.bundle,
    handler: "revoker.handler",
    memory: REVOKER_MEMORY,
    timeout: `${REVOKER_TIMEOUT_SECONDS} seconds`,
    environment: brokerEnvironment(input.settings, input.tableName, input.keyArn),
    statements: (logStreamsArn) =>
      revokerStatements({
        tableArn: input.tableArn,
        keyArn: input.keyArn,
        logStreamsArn,
        targetRoles: input.settings.targetRoles,
        targetRoleBoundary: input.settings.targetRoleBoundary,
      }),
  });

  const accountId = aws.getCallerIdentityOutput({}).accountId;
  const schedule = new sst.aws.CronV2("RevokerSchedule", {
    schedule: REVOKER_SCHEDULE,
    function: fn,
    retries: 0,
    transform: {
      role: (role) => {
        // Scheduler acts for this account's schedules only (the confused-deputy guard AWS documents).
        role.assumeRolePolicy = $jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "scheduler.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
          ],
        });
      },
    },
  });

  return { fn, logGroup, schedule };
}
