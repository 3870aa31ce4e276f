/**
 * Structured log lines of the lease machinery (sweeps, failed revocations): one JSON object
 * per line with a level, a message and fields, which CloudWatch Logs Insights queries by
 * field. Fields carry lease ids, counts and error messages, never secret material.
 */
export type LeaseLogLevel = "info" | "warn" | "error";

export type LeaseLog = (level: LeaseLogLevel, message: string, fields: Record<string, unknown>) => void;

export const consoleLeaseLog: LeaseLog = (level, message, fields) => {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
};
