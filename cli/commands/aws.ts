/**
 * `coffer aws creds <role>`: short-lived AWS credentials from STS, with a lease that
 * `coffer lease revoke` ends early.
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction } from "./exit-codes.ts";
import { leaseFields, leaseRows } from "./lease-output.ts";
import { outputFormat, printField, printJson, printTable, rowsOf } from "./output.ts";

interface CredsOptions extends ClientOptions {
  mount: string;
  ttl?: string;
}

export function registerAwsCommands(program: Command): void {
  const aws = commandGroup(program, "aws", "dynamic AWS credentials");

  clientCommand(aws, "creds <role>", "issue AWS credentials for a role (aws/creds/<role>)")
    .option("--mount <path>", "where the AWS engine is mounted", "aws")
    .option("--ttl <duration>", 'how long the credentials last, e.g. "15m" (within the role\'s limits)')
    .addHelpText(
      "after",
      '\nExamples:\n  coffer aws creds deploy\n  eval "$(coffer aws creds deploy --json | jq -r \'.data | "export AWS_ACCESS_KEY_ID=\\(.access_key) AWS_SECRET_ACCESS_KEY=\\(.secret_key) AWS_SESSION_TOKEN=\\(.security_token)"\')"\n',
    )
    .action(
      runAction(async (role: string, options: CredsOptions) => {
        const connection = await connect(options);
        const mount = options.mount.replace(/^\/+|\/+$/g, "");
        const query = options.ttl === undefined ? undefined : { ttl: options.ttl };
        const response = await connection.request("GET", `${mount}/creds/${role}`, { query });
        if (!response) throw new Error("the server answered without credentials");
        if (options.field) return printField({ ...leaseFields(response), ...response.data }, options.field);
        if (outputFormat(options) === "json") return printJson(response);
        printTable([...leaseRows(response), ...rowsOf(response.data)]);
      }),
    );
}
