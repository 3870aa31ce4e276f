/**
 * `coffer login kubernetes` and `coffer login token`: get or check a token and keep it
 * in ~/.coffer-token (mode 0600) for the commands that follow.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { AuthInfo, VaultResponse } from "../client.ts";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { LocalError, runAction } from "./exit-codes.ts";
import { argumentOrStdin } from "./input.ts";
import { fieldsOf, outputFormat, printField, printFormatted, printTable, secretRows } from "./output.ts";
import { readTokenFile, storeToken, tokenFilePath, vaultTokenFilePath } from "./token-file.ts";

/** Where Kubernetes mounts the pod's default service account token. */
export const DEFAULT_JWT_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";

interface LoginOptions extends ClientOptions {
  store: boolean;
}

async function finishLogin(response: VaultResponse, options: LoginOptions): Promise<void> {
  const auth = response.auth as AuthInfo;
  if (options.store) await storeToken(auth.client_token);
  const format = outputFormat(options);
  if (options.field) return printField(fieldsOf(response), options.field);
  if (format !== "table") return printFormatted(format, response);
  if (options.store) {
    process.stdout.write(`Success! You are now logged in. The token is stored in ${tokenFilePath()}.\n\n`);
  } else {
    process.stdout.write("Success! You are now logged in. The token was not stored: keep it safe.\n\n");
  }
  // The auth block only: a token checked by `login token` comes with its lookup, id included.
  printTable(secretRows({ ...response, data: null }, { showToken: !options.store }));
  if (!options.store) return;
  // Whatever comes before the stored token keeps being used instead of it: say so.
  const before = ["COFFER_TOKEN", "VAULT_TOKEN"].find((name) => process.env[name]?.trim());
  const shadow = before ?? ((await readTokenFile(vaultTokenFilePath())) ? vaultTokenFilePath() : undefined);
  if (shadow) process.stderr.write(`\nWarning: ${shadow} takes precedence over the stored token.\n`);
}

async function readJwt(file: string): Promise<string> {
  let jwt: string;
  try {
    jwt = (await readFile(file, "utf8")).trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LocalError(
      `cannot read the service account token at ${file}: ${code === "ENOENT" ? "no such file" : code}; pass --jwt-file`,
    );
  }
  if (jwt === "") throw new LocalError(`the service account token file ${file} is empty`);
  return jwt;
}

export function registerLoginCommands(program: Command): void {
  const login = commandGroup(program, "login", "log in and keep the token for the commands that follow");

  clientCommand(login, "kubernetes", "log in with a Kubernetes service account token")
    .requiredOption("--role <role>", "the role to log in with (auth/<mount>/role/<role>)")
    .option("--jwt-file <file>", "the service account token to present", DEFAULT_JWT_FILE)
    .option("--mount <path>", "where the Kubernetes auth method is mounted, below auth/", "kubernetes")
    .option("--no-store", `print the token instead of storing it in ~/.coffer-token`)
    .addHelpText(
      "after",
      "\nExample:\n  coffer login kubernetes --role app --jwt-file /var/run/secrets/coffer/token\n",
    )
    .action(
      runAction(async (options: LoginOptions & { role: string; jwtFile: string; mount: string }) => {
        const jwt = await readJwt(options.jwtFile);
        const connection = await connect(options, "none");
        const mount = options.mount.replace(/^\/+|\/+$/g, "").replace(/^auth\//, "");
        const response = await connection.request("POST", `auth/${mount}/login`, {
          body: { role: options.role, jwt },
        });
        if (!response?.auth) throw new Error("the server answered the login without a token");
        await finishLogin(response, options);
      }),
    );

  clientCommand(
    login,
    "token [token]",
    "check a Coffer token and keep it (read from standard input when absent)",
  )
    .option("--no-store", "only check the token, do not store it")
    .addHelpText("after", "\nExample:\n  coffer login token < token.txt\n")
    .action(
      runAction(async (tokenArgument: string | undefined, options: LoginOptions) => {
        const token = await argumentOrStdin(tokenArgument, "token");
        const connection = (await connect(options, "none")).withToken(token, "the command line");
        // Asking the server about the token is what proves it is valid before it is kept.
        const response = await connection.request("GET", "auth/token/lookup-self");
        const data = response?.data ?? {};
        const auth: AuthInfo = {
          client_token: token,
          accessor: String(data.accessor ?? ""),
          policies: (data.policies as string[] | undefined) ?? [],
          metadata: (data.meta as Record<string, string> | null | undefined) ?? null,
          lease_duration: Number(data.ttl ?? 0),
          renewable: Boolean(data.renewable),
        };
        await finishLogin({ ...(response as VaultResponse), auth }, options);
      }),
    );
}
