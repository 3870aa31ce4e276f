/**
 * `coffer token create|lookup|renew|revoke|capabilities`: tokens made by other tokens,
 * and the caller's own token by default (another given as an argument or "-" for
 * standard input, or an accessor when asked).
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { LocalError, runAction } from "./exit-codes.ts";
import {
  argumentOrStdin,
  booleanArgument,
  durationArgument,
  keyValueArgument,
  listArgument,
  nonNegativeInteger,
  trimPath,
} from "./input.ts";
import { outputFormat, printField, printFormatted, printSecret, printSuccess } from "./output.ts";
import { forgetStoredToken, tokenFilePath } from "./token-file.ts";

interface TokenOptions extends ClientOptions {
  accessor?: boolean;
}

interface CreateOptions extends ClientOptions {
  policy?: string[];
  ttl?: string;
  explicitMaxTtl?: string;
  period?: string;
  renewable: boolean;
  orphan?: boolean;
  defaultPolicy: boolean;
  displayName?: string;
  metadata?: Record<string, string>;
  useLimit?: number;
  type?: string;
}

/** Which token a command is about: its own, another by value, or another by accessor. */
async function target(argument: string | undefined, options: TokenOptions) {
  if (options.accessor) {
    if (argument === undefined) throw new LocalError("missing the accessor: pass it as an argument");
    return { kind: "accessor" as const, value: argument };
  }
  if (argument === undefined) return { kind: "self" as const };
  return { kind: "token" as const, value: await argumentOrStdin(argument, "token") };
}

/** The request body of auth/token/create, from the vault CLI's flags. */
function createBody(options: CreateOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { renewable: options.renewable };
  if (options.policy) body.policies = options.policy;
  if (options.ttl !== undefined) body.ttl = options.ttl;
  if (options.explicitMaxTtl !== undefined) body.explicit_max_ttl = options.explicitMaxTtl;
  if (options.period !== undefined) body.period = options.period;
  // The vault CLI asks auth/token/create-orphan; no_parent is the same request on the
  // endpoint every server has.
  if (options.orphan) body.no_parent = true;
  if (!options.defaultPolicy) body.no_default_policy = true;
  if (options.displayName !== undefined) body.display_name = options.displayName;
  if (options.metadata) body.meta = options.metadata;
  if (options.useLimit !== undefined) body.num_uses = options.useLimit;
  if (options.type !== undefined) body.type = options.type;
  return body;
}

export function registerTokenCommands(program: Command): void {
  const token = commandGroup(program, "token", "create, look up, renew and revoke tokens");
  const accessorOption = ["--accessor", "the argument is a token accessor, not a token"] as const;

  clientCommand(token, "create", "create a token from yours, with at most your policies")
    .option("--policy <name>", "a policy of the new token (repeatable; default: yours)", listArgument)
    .option("--ttl <duration>", 'its TTL, e.g. "1h"', durationArgument)
    .option("--explicit-max-ttl <duration>", "a TTL it can never be renewed past", durationArgument)
    .option("--period <duration>", "a periodic token's renewal period", durationArgument)
    .option("--renewable [bool]", "whether it can be renewed", booleanArgument, true)
    .option("--orphan", "no parent: it outlives yours (needs sudo)")
    .option("--no-default-policy", "without the default policy")
    .option("--display-name <name>", "a name shown in its lookup and the audit log")
    .option("--metadata <key=value>", "metadata (repeatable)", keyValueArgument)
    .option("--use-limit <n>", "how many uses it has (0: unlimited)", nonNegativeInteger("the use limit"))
    .option("--type <type>", "service (the only type this server makes)")
    .addHelpText(
      "after",
      "\nExamples:\n  coffer token create -policy=app -ttl=1h\n  coffer token create -policy=app -field=token\n",
    )
    .action(
      runAction(async (options: CreateOptions) => {
        const connection = await connect(options);
        const response = await connection.request("POST", "auth/token/create", { body: createBody(options) });
        if (!response?.auth) throw new Error("the server answered without a token");
        await printSecret(response, options);
      }),
    );

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
        if (!response) throw new Error("the server answered the lookup without a token");
        if (options.field || outputFormat(options) !== "table") return printSecret(response, options);
        // The token itself is not shown in the table: the caller already holds it.
        const { id: _id, ...data } = response.data ?? {};
        await printSecret({ ...response, data }, options);
      }),
    );

  clientCommand(token, "renew [token]", "extend a token's TTL, up to its maximum (your own when absent)")
    .option(...accessorOption)
    .option(
      "--increment <duration>",
      'the extension asked for, e.g. "1h" (default: the token\'s own TTL)',
      durationArgument,
    )
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
        if (!response?.auth) throw new Error("the server answered without a token");
        await printSecret(response, options, { showToken: false });
      }),
    );

  clientCommand(token, "revoke [token]", "revoke a token and the leases it obtained")
    .option(...accessorOption)
    .option("--self", "revoke your own token (and forget it if `coffer login` stored it)")
    .action(
      runAction(async (argument: string | undefined, options: TokenOptions & { self?: boolean }) => {
        if (Boolean(options.self) === (argument !== undefined)) {
          throw new LocalError("name the token to revoke, or pass --self to revoke your own");
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

  clientCommand(
    token,
    "capabilities <token-or-path> [path]",
    "what a token may do on a path: yours (sys/capabilities-self), or another's (sys/capabilities)",
  )
    .addHelpText(
      "after",
      "\nExamples:\n  coffer token capabilities secret/data/app/db\n  coffer token capabilities - secret/data/app/db < token.txt\n",
    )
    .action(
      runAction(async (first: string, second: string | undefined, options: ClientOptions) => {
        const path = trimPath(second ?? first);
        const other = second === undefined ? undefined : await argumentOrStdin(first, "token");
        const connection = await connect(options);
        const response =
          other === undefined
            ? await connection.request("POST", "sys/capabilities-self", { body: { paths: [path] } })
            : await connection.request("POST", "sys/capabilities", { body: { token: other, paths: [path] } });
        const data = (response?.data ?? {}) as Record<string, unknown>;
        const capabilities = data[path] ?? data.capabilities;
        if (!Array.isArray(capabilities)) throw new Error("the server answered without capabilities");
        const names = capabilities.map(String).sort();
        if (options.field) return printField({ capabilities: names }, options.field);
        const format = outputFormat(options);
        if (format !== "table") return printFormatted(format, names);
        process.stdout.write(`${names.join(", ")}\n`);
      }),
    );
}
