/**
 * How the functions log. The broker's log lines (the revoker's sweep report, failed
 * revocations, items that fail authentication, internal errors) go through Powertools'
 * Logger: one JSON object per line, with `level`, `message`, `timestamp`, the function's
 * name, whether the invocation was a cold start, the Lambda request id
 * (`function_request_id`) and, while the API serves a request, the request id its audit
 * records carry (`audit_request_id`), so one Logs Insights query joins a log line to its
 * audit records. Audit records are written as they are, one JSON object per line.
 *
 * Every line is written raw to stdout: Lambda prefixes what goes through console.* with a
 * timestamp, the request id and a level, and CloudWatch Logs reads a line as JSON (for
 * Logs Insights fields and Embedded Metric Format) only when it is the whole log event.
 *
 * Nothing here logs an event or a request: the Logger's `logEvent` option is only read by
 * its middleware and decorator, which Coffer does not use, so a token in a header never
 * reaches a log whatever POWERTOOLS_LOGGER_LOG_EVENT says.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Log } from "../shared/log.ts";
import { REJECTED_ITEM_MESSAGE, type RejectedItem } from "../shared/store/authenticated-store.ts";

/** The `service` field of every line: the functions tell themselves apart by `function_name`. */
export const SERVICE_NAME = "coffer";

export const logger = new Logger({ serviceName: SERVICE_NAME });

export function writeLogLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export const lambdaLog: Log = (level, message, fields) => logger[level](message, fields);

/** The part of the Lambda context the logs read. */
export type InvocationContext = Parameters<Logger["addContext"]>[0];

/**
 * Starts an invocation's lines: its Lambda request id, and none of the previous
 * invocation's keys (the audit request id).
 */
export function startInvocation(context: InvocationContext): void {
  logger.resetKeys();
  logger.addContext(context);
}

/** From here on, the invocation's lines carry the request id of its audit records. */
export function auditRequestStarted(requestId: string): void {
  logger.appendKeys({ audit_request_id: requestId });
}

/** What both functions give createAwsBroker for their logs. */
export const lambdaLogging = {
  auditWriters: [writeLogLine],
  log: lambdaLog,
  onRejectedItem: (rejected: RejectedItem) => lambdaLog("error", REJECTED_ITEM_MESSAGE, { ...rejected }),
};
