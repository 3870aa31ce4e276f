/**
 * The agent's log: one JSON object per line on stderr, for the cluster's log pipeline.
 * Callers pass names, paths and counts only; no field ever holds a secret or a token.
 */
export type LogLevel = "info" | "warn" | "error";

export type LogFields = Record<string, string | number | boolean | undefined>;

export type Log = (level: LogLevel, message: string, fields?: LogFields) => void;

export function jsonLog(write: (line: string) => void = (line) => process.stderr.write(line)): Log {
  return (level, message, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
  };
}
