/**
 * Runs the `coffer` command as a user would: a separate process (test/support/coffer-command.ts), with an
 * environment of its own (a fresh HOME, and only the COFFER_/VAULT_ variables a test
 * sets), and standard input when a test gives one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { COFFER_SCRIPT } from "../support/coffer-command.ts";

const BIN = COFFER_SCRIPT;

export interface CliResult {
  code: number | null;
  stdout: string;
  /** Standard output as bytes, for binary output. */
  stdoutBytes: Buffer;
  stderr: string;
}

export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(COFFER|VAULT)_/.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export function runCli(
  args: readonly string[],
  options: { env: Record<string, string | undefined>; stdin?: string | Buffer; timeoutMs?: number },
): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], { ...options, env: cliEnv(options.env) });
}

/** Runs a program to its end, with its output collected; killed after the timeout. */
export function runProcess(
  file: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; stdin?: string | Buffer; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")} did not finish: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(stdout);
      resolve({ code, stdout: bytes.toString("utf8"), stdoutBytes: bytes, stderr });
    });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  exited: Promise<number | null>;
}

/** A long-running command (the agent), for tests that act while it runs. */
export function startCli(args: readonly string[], env: Record<string, string | undefined>): RunningCli {
  return startProcess(process.execPath, [BIN, ...args], cliEnv(env));
}

/** A long-running program, its standard error collected. */
export function startProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  return { child, stderr: () => stderr, exited };
}

/** One request to the server's API with a token, as the tests' own setup steps. */
export async function api(
  address: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${address}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

/** A token made by the root token, with these policies. */
export async function createToken(
  address: string,
  rootToken: string,
  policies: string[],
  ttl = "1h",
): Promise<{ token: string; accessor: string }> {
  const response = await api(address, rootToken, "POST", "auth/token/create", { policies, ttl });
  const auth = response?.auth as { client_token: string; accessor: string };
  return { token: auth.client_token, accessor: auth.accessor };
}
