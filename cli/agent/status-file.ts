/**
 * The agent's status file, for `coffer agent probe`: a small JSON document the agent
 * rewrites every few seconds while its loop is alive (liveness) and marks ready once every
 * file has been rendered (readiness). A file, not a port: the probe then needs nothing in
 * the image but the agent's own binary, and the pod opens no listener.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** How old a heartbeat may be before the probe calls the agent stuck. */
export const DEFAULT_PROBE_MAX_AGE_MS = 30_000;

export interface AgentStatus {
  pid: number;
  /** Every file has been rendered at least once. */
  ready: boolean;
  /** When the agent's loop last showed it is alive, ISO 8601. */
  heartbeat_at: string;
  /** When a pass last succeeded, ISO 8601. */
  last_success_at?: string;
  /** Failed attempts since the last success. */
  failures: number;
}

/** Written by rename, so the probe never reads half a file; not synced: it is rewritten every few seconds. */
export async function writeStatus(file: string, status: AgentStatus): Promise<void> {
  const directory = dirname(file);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = join(directory, `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  await writeFile(temporary, `${JSON.stringify(status)}\n`, { mode: 0o644, flag: "wx" });
  await rename(temporary, file);
}

/** Why the probe fails, or undefined when it passes. */
export async function probeStatus(
  file: string,
  options: { ready: boolean; maxAgeMs: number; now: number },
): Promise<string | undefined> {
  let status: AgentStatus;
  try {
    status = JSON.parse(await readFile(file, "utf8")) as AgentStatus;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code
      ? `cannot read ${file}: ${code} (is the agent running with --status-file ${file}?)`
      : `${file} is not a status file`;
  }
  const age = options.now - Date.parse(status.heartbeat_at);
  if (!Number.isFinite(age)) return `${file} is not a status file`;
  if (age > options.maxAgeMs) {
    return `the agent's last heartbeat is ${Math.round(age / 1000)}s old (more than ${options.maxAgeMs / 1000}s): it is stuck or gone`;
  }
  if (options.ready && !status.ready) {
    return `the agent has not rendered every file yet (${status.failures} failed attempts so far)`;
  }
  return undefined;
}
