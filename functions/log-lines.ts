/**
 * How the functions log what the alarms count (stacks/alarms.ts): audit records, items
 * that fail authentication, and the broker's log lines (the revoker's sweep report
 * among them), each one JSON object written raw to stdout. Lambda prefixes what goes
 * through console.* with a timestamp, the request id and a level, and a CloudWatch Logs
 * metric filter applies a JSON pattern only to a log event that is a JSON object as a
 * whole. JSON patterns match fields, never text inside a value, so a caller who puts
 * words in a path cannot make a record count as something else.
 */
import type { Log } from "../shared/log.ts";
import { logRejectedItem, type RejectedItem } from "../shared/store/authenticated-store.ts";

export function writeLogLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export const stdoutLog: Log = (level, message, fields) => {
  writeLogLine(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }));
};

/** What both functions give createAwsBroker for their logs. */
export const lambdaLogging = {
  auditWriters: [writeLogLine],
  log: stdoutLog,
  onRejectedItem: (rejected: RejectedItem) => logRejectedItem(rejected, writeLogLine),
};
