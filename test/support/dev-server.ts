/**
 * `coffer dev` for end-to-end tests, two ways: in this process for one suite
 * (`useDevServer`), its data in a directory of its own that is also the HOME its commands
 * get; or as the command itself, a process started as a user starts it
 * (`startDevCommand`), for tests of the command and of clients that need it running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type DevServer, startDevServer } from "../../cli/dev.ts";
import { type ApiCall, httpCaller } from "./http.ts";

export interface DevServerOptions {
  /** false keeps the store in `home`, so it survives a restart; in memory by default. */
  inMemory?: boolean;
  /**
   * Default: one the server makes (the handle's rootToken). Given at the first start; a
   * server on disk remembers it across restarts, as `coffer dev` does.
   */
  rootToken?: string;
  /** "test": a fresh server (and data directory) for each test instead of one for the suite. */
  scope?: "suite" | "test";
}

export interface SuiteDevServer extends DevServer {
  /** The server's data directory, also the HOME for the suite's commands; removed after the suite. */
  home: string;
  /** `<home>/audit.log`, where the server writes its audit records. */
  auditLog: string;
  /** The API over HTTP, with the root token unless another is given. */
  call: ApiCall;
  /** Stops the server, keeping its data directory (the suite's end removes it). */
  close(): Promise<void>;
  /**
   * Starts it again after `close`, on the same data directory and, unless another is asked
   * for (0: any free one), the same port.
   */
  start(options?: { port?: number }): Promise<void>;
  restart(options?: { port?: number }): Promise<void>;
}

/**
 * A `coffer dev` in this process for the enclosing suite, running from its beforeAll to its
 * afterAll (or from each test's beforeEach to its afterEach, with `scope: "test"`). The
 * handle is filled when it starts, and follows it across restarts.
 */
export function useDevServer(options: DevServerOptions = {}): SuiteDevServer {
  const server = {} as SuiteDevServer;
  const [before, after] = options.scope === "test" ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    await openSuiteDevServer(server, options);
  });
  after(async () => {
    if (!server.home) return;
    await server.close();
    await rm(server.home, { recursive: true, force: true });
  });
  return server;
}

async function openSuiteDevServer(server: SuiteDevServer, options: DevServerOptions): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "coffer-dev-"));
  const auditLog = join(home, "audit.log");
  const inMemory = options.inMemory ?? true;
  let running: DevServer | undefined;
  /** 0 until the first start: then the port it got, kept for restarts. */
  let port = 0;
  Object.assign(server, {
    home,
    auditLog,
    call: ((...args) => httpCaller(server.url, server.rootToken)(...args)) as ApiCall,
    async start(restart: { port?: number } = {}) {
      running = await startDevServer({
        port: restart.port ?? port,
        host: "127.0.0.1",
        dataDir: home,
        inMemory,
        rootToken: port === 0 || inMemory ? options.rootToken : undefined,
        auditLog,
      });
      port = Number(new URL(running.url).port);
      const { close: _close, ...fields } = running;
      Object.assign(server, fields);
    },
    async close() {
      await running?.close();
      running = undefined;
    },
    async restart(restart: { port?: number } = {}) {
      await server.close();
      await server.start(restart);
    },
  });
  await server.start();
}

/**
 * `coffer dev` as a checkout runs it, from the sources (cli/bin.mjs): it serves the web UI
 * bundled from ui/ on the first request, which the command's bundle cannot do from here.
 * One process per suite, so its slower start does not count (test/support/coffer-command.ts).
 */
const SOURCES = new URL("../../cli/bin.mjs", import.meta.url).pathname;

export interface DevCommandOptions {
  dataDir: string;
  /** Default: one the system picks. */
  port?: number;
  /** Arguments after `dev --port <port> --data-dir <dataDir>`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface DevCommand {
  child: ChildProcess;
  url: string;
  rootToken: string;
  /** Everything it printed so far, standard output and error. */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `coffer dev` as a process, once its banner says it serves. */
export async function startDevCommand(options: DevCommandOptions): Promise<DevCommand> {
  const child = spawn(
    process.execPath,
    [
      SOURCES,
      "dev",
      "--port",
      String(options.port ?? 0),
      "--data-dir",
      options.dataDir,
      ...(options.args ?? []),
    ],
    { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coffer dev did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening && output.includes("Press Ctrl-C")) {
        clearTimeout(timer);
        resolve(listening[1] as string);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`coffer dev exited with ${code}: ${output}`));
    });
  });
  return {
    child,
    url,
    rootToken: /root token: (\S+)/.exec(output)?.[1] as string,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
