/**
 * Exit codes, as the vault CLI uses them, so scripts written for one work with the other:
 *
 *   0  success
 *   1  a local error, found on this side: an unknown command or flag, a missing or
 *      malformed argument, an unreadable input file, a field the answer does not have
 *   2  a remote error: the server refused or failed the request (permission denied, not
 *      found, invalid input, 5xx), could not be reached, or answered in a way that is not
 *      Coffer's API; also a request with no token to send or no valid address to send it
 *      to, which the vault CLI sends anyway and sees fail
 *
 * Every client command runs through `runAction`, so every error is printed the same
 * plain way: the server's own messages, then a hint where one helps. A `LocalError` is a
 * local error; any other error is a remote one.
 */
import type { Command, CommanderError } from "commander";
import { ApiError } from "../client.ts";

export const EXIT_OK = 0;
/** A local error: how the command was called, or what it was given or asked for. */
export const EXIT_LOCAL = 1;
/** A remote error: the request failed, or could not be made. */
export const EXIT_REMOTE = 2;

/** Something wrong on this side: how the command was called, what it was given or asked. */
export class LocalError extends Error {
  override readonly name = "LocalError";
}

/** A failure worth one more line of explanation; exits as the failure it explains. */
export class HintedError extends Error {
  override readonly name = "HintedError";
  constructor(
    readonly failure: Error,
    readonly hint: string,
  ) {
    super(failure.message);
  }
}

function describe(error: unknown): { lines: string[]; code: number } {
  if (error instanceof HintedError) {
    const inner = describe(error.failure);
    return { lines: [...inner.lines, error.hint], code: inner.code };
  }
  if (error instanceof LocalError) return { lines: [`Error: ${error.message}`], code: EXIT_LOCAL };
  if (error instanceof ApiError) {
    const where = `(HTTP ${error.status} on ${error.method} ${error.path})`;
    const [first, ...rest] = error.errors;
    const lines =
      first === undefined
        ? [`Error: ${error.status === 404 ? "nothing found" : "request failed"} ${where}`]
        : [`Error: ${first} ${where}`, ...rest.map((message) => `  * ${message}`)];
    return { lines, code: EXIT_REMOTE };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { lines: [`Error: ${message}`], code: EXIT_REMOTE };
}

/** Prints the error to stderr and returns the exit code it stands for. */
export function reportError(error: unknown): number {
  const { lines, code } = describe(error);
  process.stderr.write(`${lines.join("\n")}\n`);
  return code;
}

/** Wraps a command's action: errors are reported plainly and become the exit code. */
export function runAction<Args extends unknown[]>(
  action: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

/**
 * The argument parser's own usage errors (an unknown flag, a missing argument) exit 1, as
 * the vault CLI's do; help exits 0. Set on a command group before its subcommands are
 * added, which inherit it.
 */
export function exitWithUsageCode(command: Command): Command {
  return command.exitOverride((error: CommanderError) => {
    process.exit(error.exitCode === 0 ? EXIT_OK : EXIT_LOCAL);
  });
}
