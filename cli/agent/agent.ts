/**
 * The agent's loop. Each pass: make sure the token is valid (log in, or renew), renew or
 * re-read the secrets that are due, render every entry (reading what templates ask for),
 * write the files whose content changed, and start or restart the program of exec mode
 * when its environment changed.
 *
 * - once (`--once` or `exit_after_auth`, for init containers and Jobs): one successful
 *   pass, then exit 0. Server errors are retried with backoff until `once_timeout`; a
 *   refusal that retrying cannot fix (a 4xx, a missing field) exits 1 at once, with the reason.
 * - sidecar (the default): passes repeat when the token or a secret is due; errors are
 *   retried with backoff and end the process only past `maxRetries` (Vault Agent's
 *   exit_on_retry_failure); SIGTERM ends it with 0 (exec mode: with the program's code).
 * - SIGHUP re-reads the configuration; a configuration that does not load is logged and
 *   the running one kept.
 *
 * A 403 means the token was revoked or expired early: the agent logs in again.
 */
import { createHash } from "node:crypto";
import { ApiError, type CofferClient, ConnectionError, createClient } from "../client.ts";
import { isLoopback } from "../commands/connection.ts";
import { fileHolds, SECRET_FILE_MODE, writeFileAtomic } from "./atomic-write.ts";
import { createBackoff } from "./backoff.ts";
import { type AgentConfig, ConfigError, type LoadedConfig, type SecretEntry } from "./config.ts";
import { runHook } from "./hook.ts";
import type { Log } from "./log.ts";
import { renderEntries } from "./render-pass.ts";
import { type FetchedSecret, fetchSecret, type KvMounts, renewSecret } from "./secret-source.ts";
import { login, renew, type Session, TokenFileError } from "./session.ts";
import { HEARTBEAT_INTERVAL_MS, writeStatus } from "./status-file.ts";
import { createSupervisor } from "./supervisor.ts";
import { RenderError } from "./template.ts";

export interface AgentRunOptions {
  once: boolean;
  log: Log;
  /** Aborted by SIGTERM/SIGINT: the agent finishes what it is writing and stops. */
  signal: AbortSignal;
  now?: () => number;
  /** SIGHUP: `requests` fires "reload", and `load` reads the configuration anew. */
  reload?: { requests: EventTarget; load(): Promise<LoadedConfig> };
  /** The status file `coffer agent probe` reads. */
  statusFile?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The agent's exit code when it gives up: 2, a remote error as the vault CLI counts them
 * (the server refused, or could not be reached); 1 is an invalid configuration.
 */
export const AGENT_GAVE_UP = 2;

/** Longest single wait, so a clock jump or a missed timer cannot stall the agent. */
const MAX_SLEEP_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Rounds of "a template asked for a secret the agent did not hold". A round usually finds
 * every secret of a template; one more per secret whose path comes from another secret.
 * The bound stops a template that keeps naming new secrets.
 */
const MAX_RENDER_ROUNDS = 32;

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

/** Where an entry's content goes, as one key: a file, or an environment variable. */
const targetOf = (entry: SecretEntry) =>
  entry.env !== undefined ? `env:${entry.env}` : `file:${entry.destination}`;

export async function runAgent(initialConfig: AgentConfig, options: AgentRunOptions): Promise<number> {
  const { log, signal } = options;
  const now = options.now ?? Date.now;
  const env = options.env ?? process.env;
  let config = initialConfig;
  let once = options.once || Boolean(config.exitAfterAuth);
  let client = createClient({ address: config.address, timeoutMs: REQUEST_TIMEOUT_MS });
  let backoff = createBackoff(config.backoff);
  const deadline = now() + config.onceTimeoutMs;
  const secrets = new Map<string, FetchedSecret>();
  const kvMounts: KvMounts = new Map();
  /** A digest of what each target holds, never the content itself. */
  const written = new Map<string, string>();
  let session: Session | undefined;
  let sinkToken: string | undefined;
  let freshLogin = false;
  let ready = false;
  /** A file changed since on_change last ran (or since the first render). */
  let changePending = false;
  /** Templates whose file changed and whose command has not run yet. */
  const commandsPending = new Set<SecretEntry>();
  let failingSince: number | undefined;
  let lastSuccessAt: number | undefined;

  // Exec mode: the program's own exit ends the agent with its code.
  const stopped = new AbortController();
  const stop = AbortSignal.any([signal, stopped.signal]);
  let programExit: number | undefined;
  let programStarted = false;
  /** A reload changed the program's command: start it again even if its secrets did not change. */
  let commandChanged = false;
  const supervisor = config.exec
    ? createSupervisor(config.exec, log, (code) => {
        programExit = code;
        stopped.abort();
      })
    : undefined;

  // SIGHUP: wake the loop, which reloads before its next pass.
  let reloadRequested = false;
  let wake = new AbortController();
  const onReload = () => {
    reloadRequested = true;
    wake.abort();
  };
  options.reload?.requests.addEventListener("reload", onReload);

  async function status(): Promise<void> {
    if (!options.statusFile) return;
    await writeStatus(options.statusFile, {
      pid: process.pid,
      ready,
      heartbeat_at: new Date(now()).toISOString(),
      last_success_at: lastSuccessAt === undefined ? undefined : new Date(lastSuccessAt).toISOString(),
      failures: backoff.failures,
    }).catch((error) => log("warn", "cannot write the status file", { error: (error as Error).message }));
  }
  const heartbeat = options.statusFile ? setInterval(() => void status(), HEARTBEAT_INTERVAL_MS) : undefined;
  heartbeat?.unref();

  async function reload(): Promise<void> {
    reloadRequested = false;
    if (!options.reload) return;
    let loaded: LoadedConfig;
    try {
      loaded = await options.reload.load();
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems.join("; ") : describe(error);
      log("error", "reload failed: keeping the running configuration", { error: problems });
      return;
    }
    const next = loaded.config;
    for (const warning of loaded.warnings) log("warn", warning);
    if (Boolean(next.exec) !== Boolean(config.exec)) {
      log("error", "reload failed: exec mode cannot be turned on or off in a running agent; restart it");
      return;
    }
    if (next.address !== config.address)
      client = createClient({ address: next.address, timeoutMs: REQUEST_TIMEOUT_MS });
    if (next.address !== config.address || JSON.stringify(next.auth) !== JSON.stringify(config.auth)) {
      session = undefined;
    }
    const targets = new Set(next.secrets.map(targetOf));
    for (const target of written.keys()) if (!targets.has(target)) written.delete(target);
    if (next.exec && supervisor) supervisor.update(next.exec);
    commandChanged ||= JSON.stringify(next.exec?.command) !== JSON.stringify(config.exec?.command);
    config = next;
    once = options.once || Boolean(config.exitAfterAuth);
    backoff = createBackoff(config.backoff);
    log("info", "configuration reloaded", { secrets: config.secrets.length });
  }

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

  /** Vault Agent's file sink: the token, for programs that call Coffer themselves. */
  async function writeSinks(token: string): Promise<void> {
    if (token === sinkToken) return;
    for (const sink of config.sinks ?? []) await writeFileAtomic(sink.path, token, sink.mode);
    if (config.sinks?.length) log("info", "token written to its sinks", { sinks: config.sinks.length });
    sinkToken = token;
  }

  async function refreshSecrets(authed: CofferClient): Promise<void> {
    const due = [...secrets.entries()].filter(([, secret]) => now() >= secret.refreshAt);
    await Promise.all(
      due.map(async ([key, current]) => {
        if (current.leaseId) {
          const renewed = await renewSecret(authed, current, now()).catch((error) => {
            // A lease the server no longer knows or will not renew: read the secret anew.
            if (error instanceof ApiError && error.status === 400) return undefined;
            throw error;
          });
          if (renewed) {
            secrets.set(key, renewed);
            log("info", "lease renewed", {
              path: current.request.path,
              ttl_s: Math.round(renewed.leaseMs / 1000),
            });
            return;
          }
        }
        secrets.set(key, await fetchSecret(authed, current.request, config.refreshIntervalMs, now, kvMounts));
      }),
    );
  }

  /** Renders every entry, reading what the templates ask for, until nothing is pending. */
  async function renderAll(authed: CofferClient): Promise<Map<SecretEntry, string>> {
    for (let round = 1; ; round++) {
      const outcome = renderEntries(config.secrets, secrets, env);
      if (outcome.pending.size === 0) {
        if (outcome.error !== undefined) throw outcome.error;
        for (const key of secrets.keys()) if (!outcome.used.has(key)) secrets.delete(key);
        return outcome.contents;
      }
      if (round === MAX_RENDER_ROUNDS) {
        throw new RenderError(`the templates still asked for new secrets after ${MAX_RENDER_ROUNDS} rounds`);
      }
      await Promise.all(
        [...outcome.pending.entries()].map(async ([key, request]) => {
          secrets.set(key, await fetchSecret(authed, request, config.refreshIntervalMs, now, kvMounts));
        }),
      );
    }
  }

  /**
   * Renders every entry before writing any: a secret that cannot be rendered (a missing
   * field) leaves the whole set as it was, rather than some files new and some old.
   * Returns whether the program's environment changed.
   */
  async function write(contents: Map<SecretEntry, string>): Promise<boolean> {
    let environmentChanged = false;
    for (const [entry, content] of contents) {
      const target = targetOf(entry);
      const hash = digest(content);
      if (written.get(target) === hash) continue;
      if (entry.env !== undefined) {
        environmentChanged = true;
        written.set(target, hash);
        continue;
      }
      const file = entry.destination as string;
      const mode = entry.perms ?? SECRET_FILE_MODE;
      const unchangedOnDisk = !written.has(target) && (await fileHolds(file, content, mode));
      if (!unchangedOnDisk) {
        await writeFileAtomic(file, content, mode);
        // Recorded per write: if a later write fails, the retry still owes the hook this change.
        changePending = true;
        if (entry.command) commandsPending.add(entry);
        log("info", "rendered", { destination: file, format: entry.format });
      }
      written.set(target, hash);
    }
    return environmentChanged;
  }

  function environment(contents: Map<SecretEntry, string>): Record<string, string> {
    const variables: Record<string, string> = {};
    for (const [entry, content] of contents) if (entry.env !== undefined) variables[entry.env] = content;
    return variables;
  }

  function nextWake(): number {
    const times = [...secrets.values()].map((secret) => secret.refreshAt);
    if (session?.refreshAt !== undefined) times.push(session.refreshAt);
    return Math.min(...times, now() + config.refreshIntervalMs);
  }

  async function pass(): Promise<void> {
    if (reloadRequested) await reload();
    const current = await ensureSession();
    await writeSinks(current.token);
    const authed = client.withToken(current.token);
    await refreshSecrets(authed);
    const contents = await renderAll(authed);
    const environmentChanged = await write(contents);
    const restart = commandChanged || (environmentChanged && config.exec?.restartOnSecretChanges);
    if (supervisor && (!programStarted || restart)) {
      await supervisor.start(environment(contents));
      programStarted = true;
      commandChanged = false;
    }
    // A template's command runs after every write of its file, the first one included, as
    // in Vault Agent; on_change only after the first render, once the application runs.
    for (const entry of commandsPending) {
      const command = entry.command as { command: string[]; timeoutMs: number };
      await runHook(command.command, command.timeoutMs, log, "template");
    }
    if (!ready) {
      if (config.readyFile) await writeFileAtomic(config.readyFile, `${new Date(now()).toISOString()}\n`);
      ready = true;
      log("info", "first render complete", { files: config.secrets.length });
    } else if (changePending && config.onChange) {
      await runHook(config.onChange.command, config.onChange.timeoutMs, log);
    }
    commandsPending.clear();
    changePending = false;
  }

  log("info", "agent started", {
    mode: config.exec ? "exec" : once ? "once" : "sidecar",
    address: config.address,
    files: config.secrets.filter((entry) => entry.destination !== undefined).length,
  });
  const { protocol, hostname } = new URL(config.address);
  if (protocol === "http:" && !isLoopback(hostname)) {
    log("warn", "the address is plain http: tokens and secrets cross the network unencrypted");
  }
  await status();
  try {
    while (!stop.aborted) {
      try {
        await pass();
        if (failingSince !== undefined) {
          log("info", "recovered", {
            failures: backoff.failures,
            outage_s: Math.round((now() - failingSince) / 1000),
          });
        }
        failingSince = undefined;
        lastSuccessAt = now();
        backoff.reset();
        freshLogin = false;
        await status();
        if (once) {
          log("info", "done", { files: config.secrets.length });
          return 0;
        }
        wake = new AbortController();
        if (!reloadRequested) await sleep(nextWake() - now(), AbortSignal.any([stop, wake.signal]));
      } catch (error) {
        if (stop.aborted) break;
        const refused = error instanceof ApiError && error.status === 403;
        // Permission denied right after a login is the role's policies; otherwise the token
        // was revoked or expired early, and a new login is the cure.
        const permanent = isPermanent(error) && (!refused || freshLogin || session === undefined);
        if (refused) session = undefined;
        if (once && permanent) {
          log("error", "giving up: the server refused the request", { error: describe(error) });
          return AGENT_GAVE_UP;
        }
        failingSince ??= now();
        const delay = backoff.next();
        const transient = error instanceof ConnectionError || error instanceof TokenFileError;
        log(transient || !permanent ? "warn" : "error", "attempt failed, retrying", {
          error: describe(error),
          retry_in_ms: delay,
          failures: backoff.failures,
        });
        await status();
        if (once && now() + delay > deadline) {
          log("error", "giving up: once_timeout reached", {
            error: describe(error),
            once_timeout_ms: config.onceTimeoutMs,
          });
          return AGENT_GAVE_UP;
        }
        if (config.maxRetries !== undefined && backoff.failures > config.maxRetries) {
          log("error", "giving up: exit_on_retry_failure after every retry failed", {
            error: describe(error),
            retries: config.maxRetries,
          });
          return AGENT_GAVE_UP;
        }
        wake = new AbortController();
        if (!reloadRequested) await sleep(delay, AbortSignal.any([stop, wake.signal]));
      }
    }
    if (programExit !== undefined) {
      log("info", "stopped: the program exited", { exit_code: programExit });
      return programExit;
    }
    log("info", "stopped", { reason: "signal" });
    // The program stops with the agent, and the agent ends with its code.
    if (supervisor?.running) await supervisor.stop();
    return programExit ?? 0;
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    options.reload?.requests.removeEventListener("reload", onReload);
  }
}
