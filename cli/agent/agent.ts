/**
 * The agent's loop. Each pass: make sure the token is valid (log in, or renew), read the
 * secrets that are due, render every file, and write the ones whose content changed.
 *
 * - once (`--once`, for init containers and Jobs): one successful pass, then exit 0.
 *   Server errors are retried with backoff until `once_timeout`; a refusal that retrying
 *   cannot fix (a 4xx, a missing field) exits 1 at once, with the reason.
 * - sidecar (the default): passes repeat when the token or a secret is due; errors of any
 *   kind are retried with backoff and never end the process; SIGTERM ends it with 0.
 *
 * A 403 means the token was revoked or expired early: the agent logs in again.
 */
import { createHash } from "node:crypto";
import { ApiError, type CofferClient, ConnectionError, createClient } from "../client.ts";
import { isLoopback } from "../commands/connection.ts";
import { fileHolds, writeFileAtomic } from "./atomic-write.ts";
import { createBackoff } from "./backoff.ts";
import type { AgentConfig, SecretEntry } from "./config.ts";
import { runHook } from "./hook.ts";
import type { Log } from "./log.ts";
import { renderSecret } from "./render.ts";
import { type FetchedSecret, fetchSecret, renewSecret } from "./secret-source.ts";
import { login, renew, type Session, TokenFileError } from "./session.ts";
import { RenderError } from "./template.ts";

export interface AgentRunOptions {
  once: boolean;
  log: Log;
  /** Aborted by SIGTERM/SIGINT: the agent finishes what it is writing and stops. */
  signal: AbortSignal;
  now?: () => number;
}

/** The agent's exit codes: 0 done or stopped, 1 gave up (once mode). */
export const AGENT_GAVE_UP = 1;

/** Longest single wait, so a clock jump or a missed timer cannot stall the agent. */
const MAX_SLEEP_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(Math.max(0, ms), MAX_SLEEP_MS));
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Every secret path the configuration reads, each once. */
export function pathsOf(entries: readonly SecretEntry[]): string[] {
  const paths = entries.flatMap((entry) => [
    ...(entry.path !== undefined && (entry.format !== "template" || entry.template?.usesOwnSecret)
      ? [entry.path]
      : []),
    ...(entry.template?.secretPaths ?? []),
  ]);
  return [...new Set(paths)];
}

function describe(error: unknown): string {
  if (error instanceof ApiError)
    return `${error.method} ${error.path}: HTTP ${error.status}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Errors that another attempt will not fix: in once mode they end the run at once. */
function isPermanent(error: unknown): boolean {
  if (error instanceof RenderError) return true;
  if (error instanceof ApiError) return error.status >= 400 && error.status < 500 && error.status !== 429;
  return false;
}

const digest = (content: string) => createHash("sha256").update(content).digest("hex");

export async function runAgent(config: AgentConfig, options: AgentRunOptions): Promise<number> {
  const { log, signal, once } = options;
  const now = options.now ?? Date.now;
  const client = createClient({ address: config.address, timeoutMs: REQUEST_TIMEOUT_MS });
  const backoff = createBackoff(config.backoff);
  const deadline = now() + config.onceTimeoutMs;
  const paths = pathsOf(config.secrets);
  const secrets = new Map<string, FetchedSecret>();
  /** A digest of what each destination holds, never the content itself. */
  const written = new Map<string, string>();
  let session: Session | undefined;
  let freshLogin = false;
  let ready = false;
  /** A file changed since on_change last ran (or since the first render). */
  let changePending = false;

  async function ensureSession(): Promise<Session> {
    if (session && (session.refreshAt === undefined || now() < session.refreshAt)) return session;
    if (session) {
      const renewed = await renew(client, session, now).catch((error) => {
        if (error instanceof ApiError && error.status < 500 && error.status !== 429) return undefined;
        throw error;
      });
      if (renewed) {
        log("info", "token renewed", { ttl_s: Math.round(renewed.ttlMs / 1000) });
        session = renewed;
        return renewed;
      }
    }
    session = await login(client, config.auth, now);
    freshLogin = true;
    const role = config.auth.method === "kubernetes" ? config.auth.role : undefined;
    log("info", "logged in", { method: config.auth.method, role, ttl_s: Math.round(session.ttlMs / 1000) });
    return session;
  }

  async function refreshSecrets(authed: CofferClient): Promise<void> {
    const due = paths.filter((path) => {
      const secret = secrets.get(path);
      return secret === undefined || now() >= secret.refreshAt;
    });
    await Promise.all(
      due.map(async (path) => {
        const current = secrets.get(path);
        if (current?.leaseId) {
          const renewed = await renewSecret(authed, current, now()).catch((error) => {
            // A lease the server no longer knows or will not renew: read the secret anew.
            if (error instanceof ApiError && error.status === 400) return undefined;
            throw error;
          });
          if (renewed) {
            secrets.set(path, renewed);
            log("info", "lease renewed", { path, ttl_s: Math.round(renewed.leaseMs / 1000) });
            return;
          }
        }
        secrets.set(path, await fetchSecret(authed, path, config.refreshIntervalMs, now()));
      }),
    );
  }

  /**
   * Renders every file before writing any: a secret that cannot be rendered (a missing
   * field) leaves the whole set as it was, rather than some files new and some old.
   */
  async function render(): Promise<void> {
    const rendered = config.secrets.map((entry) => ({
      entry,
      content: renderSecret(entry, (path) => {
        const secret = secrets.get((path ?? entry.path) as string);
        if (!secret) throw new Error(`the secret ${path ?? entry.path} was not read`);
        return secret.values;
      }),
    }));
    for (const { entry, content } of rendered) {
      const hash = digest(content);
      if (written.get(entry.destination) === hash) continue;
      const unchangedOnDisk =
        !written.has(entry.destination) && (await fileHolds(entry.destination, content));
      if (!unchangedOnDisk) {
        await writeFileAtomic(entry.destination, content);
        // Recorded per write: if a later write fails, the retry still owes the hook this change.
        changePending = true;
        log("info", "rendered", { destination: entry.destination, format: entry.format });
      }
      written.set(entry.destination, hash);
    }
  }

  function nextWake(): number {
    const times = [...secrets.values()].map((secret) => secret.refreshAt);
    if (session?.refreshAt !== undefined) times.push(session.refreshAt);
    return Math.min(...times, now() + config.refreshIntervalMs);
  }

  log("info", "agent started", {
    mode: once ? "once" : "sidecar",
    address: config.address,
    secrets: paths.length,
  });
  const { protocol, hostname } = new URL(config.address);
  if (protocol === "http:" && !isLoopback(hostname)) {
    log("warn", "the address is plain http: tokens and secrets cross the network unencrypted");
  }
  while (!signal.aborted) {
    try {
      const current = await ensureSession();
      await refreshSecrets(client.withToken(current.token));
      await render();
      if (!ready) {
        if (config.readyFile) await writeFileAtomic(config.readyFile, `${new Date(now()).toISOString()}\n`);
        ready = true;
        log("info", "first render complete", { files: config.secrets.length });
      } else if (changePending && config.onChange) {
        await runHook(config.onChange.command, config.onChange.timeoutMs, log);
      }
      changePending = false;
      backoff.reset();
      freshLogin = false;
      if (once) {
        log("info", "done", { files: config.secrets.length });
        return 0;
      }
      await sleep(nextWake() - now(), signal);
    } catch (error) {
      if (signal.aborted) break;
      const refused = error instanceof ApiError && error.status === 403;
      // Permission denied right after a login is the role's policies; otherwise the token
      // was revoked or expired early, and a new login is the cure.
      const permanent = isPermanent(error) && (!refused || freshLogin || session === undefined);
      if (refused) session = undefined;
      if (once && permanent) {
        log("error", "giving up: the server refused the request", { error: describe(error) });
        return AGENT_GAVE_UP;
      }
      const delay = backoff.next();
      const transient = error instanceof ConnectionError || error instanceof TokenFileError;
      log(transient || !permanent ? "warn" : "error", "attempt failed, retrying", {
        error: describe(error),
        retry_in_ms: delay,
        failures: backoff.failures,
      });
      if (once && now() + delay > deadline) {
        log("error", "giving up: once_timeout reached", {
          error: describe(error),
          once_timeout_ms: config.onceTimeoutMs,
        });
        return AGENT_GAVE_UP;
      }
      await sleep(delay, signal);
    }
  }
  log("info", "stopped", { reason: "signal" });
  return 0;
}
