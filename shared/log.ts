/**
 * Structured log lines of the broker's background work (sweeps, failed revocations, an
 * engine's periodic work): one JSON object per line with a level, a message and fields,
 * which CloudWatch Logs Insights queries by field. Fields carry ids, counts and error
 * messages, never secret material.
 */
export type LogLevel = "info" | "warn" | "error";

export type Log = (level: LogLevel, message: string, fields: Record<string, unknown>) => void;

export const consoleLog: Log = (level, message, fields) => {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
};
