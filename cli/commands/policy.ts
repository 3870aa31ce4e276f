/**
 * `coffer policy`: ACL policies (sys/policies/acl/), written in HCL or JSON as Vault
 * takes them.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ApiError } from "../client.ts";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction, UsageError } from "./exit-codes.ts";
import { readStdin } from "./input.ts";
import { outputFormat, printField, printJson, printSuccess } from "./output.ts";

async function policyText(file: string): Promise<string> {
  let text: string;
  if (file === "-") {
    text = await readStdin();
  } else {
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        `cannot read the policy file ${file}: ${code === "ENOENT" ? "no such file" : code}`,
      );
    }
  }
  if (text.trim() === "")
    throw new UsageError(`the policy in ${file === "-" ? "standard input" : file} is empty`);
  return text;
}

export function registerPolicyCommands(program: Command): void {
  const policy = commandGroup(program, "policy", "ACL policies: which paths a token may use, and how");

  clientCommand(
    policy,
    "write <name> <file>",
    "create or replace a policy from a file (- for standard input)",
  )
    .addHelpText(
      "after",
      '\nExample:\n  coffer policy write app - <<\'EOF\'\n  path "secret/data/app/*" { capabilities = ["read"] }\n  EOF\n',
    )
    .action(
      runAction(async (name: string, file: string, options: ClientOptions) => {
        const text = await policyText(file);
        const connection = await connect(options);
        await connection.request("PUT", `sys/policies/acl/${name}`, { body: { policy: text } });
        printSuccess(options, `Uploaded policy: ${name}`);
      }),
    );

  clientCommand(policy, "read <name>", "print a policy as it was written").action(
    runAction(async (name: string, options: ClientOptions) => {
      const connection = await connect(options);
      const response = await connection.request("GET", `sys/policies/acl/${name}`).catch((error) => {
        const missing = error instanceof ApiError && error.status === 404 && error.errors.length === 0;
        throw missing ? new Error(`no policy named "${name}"`) : error;
      });
      if (options.field) return printField(response?.data, options.field);
      if (outputFormat(options) === "json") return printJson(response);
      const text = String(response?.data?.policy ?? "");
      process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    }),
  );

  clientCommand(policy, "list", "list the names of every policy").action(
    runAction(async (options: ClientOptions) => {
      const connection = await connect(options);
      const response = await connection.request("GET", "sys/policies/acl", { query: { list: "true" } });
      if (options.field) return printField(response?.data, options.field);
      const keys = ((response?.data?.keys ?? []) as unknown[]).map(String);
      if (outputFormat(options) === "json") return printJson(keys);
      process.stdout.write(keys.map((key) => `${key}\n`).join(""));
    }),
  );

  clientCommand(policy, "delete <name>", "delete a policy; tokens that name it lose what it granted").action(
    runAction(async (name: string, options: ClientOptions) => {
      const connection = await connect(options);
      await connection.request("DELETE", `sys/policies/acl/${name}`);
      printSuccess(options, `Deleted policy: ${name}`);
    }),
  );
}
