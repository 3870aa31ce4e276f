/**
 * `coffer aws creds <role>` and `coffer database creds <role>`: dynamic credentials from
 * a secrets engine (<mount>/creds/<role>), each with a lease that `coffer lease revoke`
 * ends early.
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction } from "./exit-codes.ts";
import { durationArgument, trimPath } from "./input.ts";
import { printSecret } from "./output.ts";

interface CredsOptions extends ClientOptions {
  mount: string;
  ttl?: string;
}

interface CredsEngine {
  group: string;
  description: string;
  what: string;
  examples: string;
  /** Whether the engine takes a TTL per request (aws does; database uses the role's). */
  ttl: boolean;
}

const ENGINES: readonly CredsEngine[] = [
  {
    group: "aws",
    description: "dynamic AWS credentials",
    what: "AWS credentials for a role, from STS",
    examples:
      "  coffer aws creds deploy\n" +
      '  eval "$(coffer aws creds deploy --json | jq -r \'.data | "export AWS_ACCESS_KEY_ID=\\(.access_key) ' +
      'AWS_SECRET_ACCESS_KEY=\\(.secret_key) AWS_SESSION_TOKEN=\\(.security_token)"\')"\n',
    ttl: true,
  },
  {
    group: "database",
    description: "dynamic database users",
    what: "a database user for a role, dropped when its lease ends",
    examples: "  coffer database creds readonly\n  coffer database creds -field=password readonly\n",
    ttl: false,
  },
];

function registerCreds(program: Command, engine: CredsEngine): void {
  const group = commandGroup(program, engine.group, engine.description);
  const command = clientCommand(group, "creds <role>", `issue ${engine.what} (${engine.group}/creds/<role>)`)
    .option("--mount <path>", `where the ${engine.group} engine is mounted`, engine.group)
    .addHelpText("after", `\nExamples:\n${engine.examples}`);
  if (engine.ttl) {
    command.option(
      "--ttl <duration>",
      'how long the credentials last, e.g. "15m" (within the role\'s limits)',
      durationArgument,
    );
  }
  command.action(
    runAction(async (role: string, options: CredsOptions) => {
      const connection = await connect(options);
      const query = options.ttl === undefined ? undefined : { ttl: options.ttl };
      const response = await connection.request("GET", `${trimPath(options.mount)}/creds/${role}`, { query });
      if (!response) throw new Error("the server answered without credentials");
      await printSecret(response, options);
    }),
  );
}

export function registerCredsCommands(program: Command): void {
  for (const engine of ENGINES) registerCreds(program, engine);
}
