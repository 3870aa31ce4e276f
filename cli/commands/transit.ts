/**
 * `coffer transit encrypt|decrypt`: encryption as a service. The command takes and gives
 * the plaintext as it is; the base64 encoding the API uses stays on the wire.
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { LocalError, runAction } from "./exit-codes.ts";
import { argumentOrStdin, readStdinBytes } from "./input.ts";
import { printField, printStructured, printTable, rowsOf } from "./output.ts";

interface TransitOptions extends ClientOptions {
  mount: string;
  context?: string;
}

async function plaintextBytes(argument: string | undefined): Promise<Buffer> {
  if (argument !== undefined && argument !== "-") return Buffer.from(argument, "utf8");
  if (process.stdin.isTTY)
    throw new LocalError("missing plaintext: pass it as an argument or on standard input");
  return readStdinBytes();
}

function body(options: TransitOptions, fields: Record<string, string>): Record<string, string> {
  return options.context === undefined
    ? fields
    : { ...fields, context: Buffer.from(options.context, "utf8").toString("base64") };
}

export function registerTransitCommands(program: Command): void {
  const transit = commandGroup(
    program,
    "transit",
    "encrypt and decrypt with keys that never leave the server",
  );
  const mountOption = ["--mount <path>", "where the transit engine is mounted", "transit"] as const;
  const contextOption = [
    "--context <text>",
    "key derivation context (for keys created with derived=true)",
  ] as const;

  clientCommand(
    transit,
    "encrypt <key> [plaintext]",
    "encrypt (plaintext from standard input when absent or -)",
  )
    .option(...mountOption)
    .option(...contextOption)
    .addHelpText(
      "after",
      "\nExamples:\n  coffer transit encrypt app-key 'card 4111'\n  coffer transit encrypt app-key < file\n",
    )
    .action(
      runAction(async (key: string, plaintext: string | undefined, options: TransitOptions) => {
        const bytes = await plaintextBytes(plaintext);
        const connection = await connect(options);
        const mount = options.mount.replace(/^\/+|\/+$/g, "");
        const response = await connection.request("POST", `${mount}/encrypt/${key}`, {
          body: body(options, { plaintext: bytes.toString("base64") }),
        });
        if (options.field) return printField(response?.data, options.field);
        if (await printStructured(options, response)) return;
        printTable(rowsOf(response?.data));
      }),
    );

  clientCommand(
    transit,
    "decrypt <key> [ciphertext]",
    "decrypt (ciphertext from standard input when absent or -)",
  )
    .option(...mountOption)
    .option(...contextOption)
    .addHelpText("after", "\nExample:\n  coffer transit decrypt -field=plaintext app-key vault:v1:...\n")
    .action(
      runAction(async (key: string, ciphertext: string | undefined, options: TransitOptions) => {
        const input = await argumentOrStdin(ciphertext, "ciphertext");
        const connection = await connect(options);
        const mount = options.mount.replace(/^\/+|\/+$/g, "");
        const response = await connection.request("POST", `${mount}/decrypt/${key}`, {
          body: body(options, { ciphertext: input.trim() }),
        });
        if (!options.field && (await printStructured(options, response))) return;
        const encoded = response?.data?.plaintext;
        if (typeof encoded !== "string") throw new Error("the server answered without a plaintext");
        const plaintext = Buffer.from(encoded, "base64");
        if (options.field === "plaintext") {
          process.stdout.write(plaintext);
          return;
        }
        if (options.field) return printField(response?.data, options.field);
        printTable([["plaintext", plaintext.toString("utf8")]]);
      }),
    );
}
