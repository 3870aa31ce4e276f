/**
 * Exit codes, as the vault CLI uses them, so scripts written for one work with the other:
 *
 *   0  success
 *   1  the server refused or failed the request (permission denied, not found, invalid
 *      input, 5xx), or could not be reached
 *   2  usage error: a missing or malformed argument or flag, an unknown command, or no
 *      token to send; nothing was sent to the server
 *
 * Every client command runs through `runAction`, so every error is printed the same
 * plain way: the server's own messages, then a hint where one helps.
 */
import type { Command, CommanderError } from "commander";
import { ApiError, ConnectionError } from "../client.ts";

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

/** Something wrong with how the command was called; found before any request. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A request that failed for a reason worth one more line of explanation. */
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
  if (error instanceof UsageError) return { lines: [`Error: ${error.message}`], code: EXIT_USAGE };
  if (error instanceof ConnectionError) return { lines: [`Error: ${error.message}`], code: EXIT_REFUSED };
  if (error instanceof ApiError) {
    const where = `(HTTP ${error.status} on ${error.method} ${error.path})`;
    const [first, ...rest] = error.errors;
    const lines =
      first === undefined
        ? [`Error: ${error.status === 404 ? "nothing found" : "request failed"} ${where}`]
        : [`Error: ${first} ${where}`, ...rest.map((message) => `  * ${message}`)];
    return { lines, code: EXIT_REFUSED };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { lines: [`Error: ${message}`], code: EXIT_REFUSED };
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
 * Commander exits with 1 on a usage error; this makes it 2, as documented. Set on a
 * command group before its subcommands are added, which inherit it.
 */
export function exitWithUsageCode(command: Command): Command {
  return command.exitOverride((error: CommanderError) => {
    process.exit(error.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
  });
}
