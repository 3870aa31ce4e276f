/**
 * `coffer policy`: ACL policies (sys/policies/acl/), written in HCL or JSON as Vault
 * takes them.
 */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ApiError } from "../client.ts";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { LocalError, runAction } from "./exit-codes.ts";
import { readInputFile, readStdin } from "./input.ts";
import { printField, printStructured, printSuccess } from "./output.ts";
import { formatPolicy } from "./policy-format.ts";

async function policyText(file: string): Promise<string> {
  const text = file === "-" ? await readStdin() : await readInputFile(file);
  if (text.trim() === "")
    throw new LocalError(`the policy in ${file === "-" ? "standard input" : file} is empty`);
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
      if (await printStructured(options, response)) return;
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
      // One name a line, without the "Keys" heading: as the vault CLI lists policies.
      if (!(await printStructured(options, keys)))
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

  // Local, as the vault CLI's: the file is checked by the server's parser and rewritten.
  policy
    .command("fmt <file>")
    .description("format an HCL policy file in place (checked first; comments are kept)")
    .addHelpText("after", "\nExample:\n  coffer policy fmt app.hcl\n")
    .action(
      runAction(async (file: string) => {
        const formatted = formatPolicy(await readInputFile(file), file);
        await writeFile(file, formatted);
        process.stdout.write(`Success! Formatted policy: ${file}\n`);
      }),
    );
}
