/**
 * `coffer token lookup|renew|revoke`: the caller's own token by default, another token
 * (given as an argument or "-" for standard input) or an accessor when asked.
 */
import type { Command } from "commander";
import type { VaultResponse } from "../client.ts";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction, UsageError } from "./exit-codes.ts";
import { argumentOrStdin } from "./input.ts";
import { authRows } from "./login.ts";
import { outputFormat, printField, printJson, printSuccess, printTable, rowsOf } from "./output.ts";
import { forgetStoredToken, tokenFilePath } from "./token-file.ts";

interface TokenOptions extends ClientOptions {
  accessor?: boolean;
}

/** Which token a command is about: its own, another by value, or another by accessor. */
async function target(argument: string | undefined, options: TokenOptions) {
  if (options.accessor) {
    if (argument === undefined) throw new UsageError("missing the accessor: pass it as an argument");
    return { kind: "accessor" as const, value: argument };
  }
  if (argument === undefined) return { kind: "self" as const };
  return { kind: "token" as const, value: await argumentOrStdin(argument, "token") };
}

function printAuth(response: VaultResponse | undefined, options: ClientOptions): void {
  if (!response?.auth) throw new Error("the server answered without a token");
  if (options.field) printField({ ...response.auth }, options.field);
  else if (outputFormat(options) === "json") printJson(response);
  else printTable(authRows(response.auth, false));
}

export function registerTokenCommands(program: Command): void {
  const token = commandGroup(program, "token", "look up, renew and revoke tokens");
  const accessorOption = ["--accessor", "the argument is a token accessor, not a token"] as const;

  clientCommand(token, "lookup [token]", "show a token's policies, TTL and metadata (your own when absent)")
    .option(...accessorOption)
    .action(
      runAction(async (argument: string | undefined, options: TokenOptions) => {
        const which = await target(argument, options);
        const connection = await connect(options);
        const response =
          which.kind === "self"
            ? await connection.request("GET", "auth/token/lookup-self")
            : which.kind === "token"
              ? await connection.request("POST", "auth/token/lookup", { body: { token: which.value } })
              : await connection.request("POST", "auth/token/lookup-accessor", {
                  body: { accessor: which.value },
                });
        if (options.field) return printField(response?.data, options.field);
        if (outputFormat(options) === "json") return printJson(response);
        // The token itself is not shown: the caller already holds it.
        printTable(rowsOf(response?.data).filter(([key]) => key !== "id"));
      }),
    );

  clientCommand(token, "renew [token]", "extend a token's TTL, up to its maximum (your own when absent)")
    .option(...accessorOption)
    .option("--increment <duration>", 'the extension asked for, e.g. "1h" (default: the token\'s own TTL)')
    .action(
      runAction(async (argument: string | undefined, options: TokenOptions & { increment?: string }) => {
        const which = await target(argument, options);
        const connection = await connect(options);
        const increment = options.increment === undefined ? {} : { increment: options.increment };
        const response =
          which.kind === "self"
            ? await connection.request("POST", "auth/token/renew-self", { body: increment })
            : which.kind === "token"
              ? await connection.request("POST", "auth/token/renew", {
                  body: { token: which.value, ...increment },
                })
              : await connection.request("POST", "auth/token/renew-accessor", {
                  body: { accessor: which.value, ...increment },
                });
        printAuth(response, options);
      }),
    );

  clientCommand(token, "revoke [token]", "revoke a token and the leases it obtained")
    .option(...accessorOption)
    .option("--self", "revoke your own token (and forget it if `coffer login` stored it)")
    .action(
      runAction(async (argument: string | undefined, options: TokenOptions & { self?: boolean }) => {
        if (Boolean(options.self) === (argument !== undefined)) {
          throw new UsageError("name the token to revoke, or pass --self to revoke your own");
        }
        const which = options.self ? ({ kind: "self" } as const) : await target(argument, options);
        const connection = await connect(options);
        if (which.kind === "self") {
          await connection.request("POST", "auth/token/revoke-self");
          if (connection.tokenSource === tokenFilePath()) await forgetStoredToken();
        } else if (which.kind === "token") {
          await connection.request("POST", "auth/token/revoke", { body: { token: which.value } });
        } else {
          await connection.request("POST", "auth/token/revoke-accessor", { body: { accessor: which.value } });
        }
        printSuccess(options, "Revoked the token and the leases it obtained");
      }),
    );
}
