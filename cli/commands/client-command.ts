/**
 * The shape every command that talks to the server shares: a group (`coffer kv`) whose
 * usage errors exit with 2, and leaf commands with --address and the output options.
 */
import type { Command } from "commander";
import { EXIT_LOCAL, exitWithUsageCode } from "./exit-codes.ts";
import { addOutputOptions, type OutputOptions, outputFormat } from "./output.ts";

export interface ClientOptions extends OutputOptions {
  address?: string;
}

export function commandGroup(parent: Command, name: string, description: string): Command {
  return exitWithUsageCode(parent.command(name).description(description));
}

export function clientCommand(parent: Command, nameAndArguments: string, description: string): Command {
  const command = parent
    .command(nameAndArguments)
    .description(description)
    .option("--address <url>", "server address (default: COFFER_ADDR, VAULT_ADDR, or http://127.0.0.1:8200)");
  // A wrong format is a usage error, found before any request is sent.
  command.hook("preAction", (_command, action) => {
    try {
      outputFormat(action.opts());
    } catch (error) {
      action.error(`Error: ${(error as Error).message}`, { exitCode: EXIT_LOCAL });
    }
  });
  return addOutputOptions(command);
}
