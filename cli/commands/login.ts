/**
 * `coffer login kubernetes` and `coffer login token`: get or check a token and keep it
 * in ~/.coffer-token (mode 0600) for the commands that follow.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { AuthInfo, VaultResponse } from "../client.ts";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { connect } from "./connection.ts";
import { runAction, UsageError } from "./exit-codes.ts";
import { argumentOrStdin } from "./input.ts";
import { outputFormat, printField, printJson, printTable, type Rows } from "./output.ts";
import { storeToken, tokenFilePath } from "./token-file.ts";

/** Where Kubernetes mounts the pod's default service account token. */
export const DEFAULT_JWT_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";

interface LoginOptions extends ClientOptions {
  store: boolean;
}

export function authRows(auth: AuthInfo, showToken: boolean): Rows {
  return [
    ...(showToken ? [["token", auth.client_token] as const] : []),
    ["token_accessor", auth.accessor],
    ["token_duration", auth.lease_duration === 0 ? "∞" : `${auth.lease_duration}s`],
    ["token_renewable", auth.renewable],
    ["token_policies", auth.token_policies ?? auth.policies],
    ["policies", auth.policies],
    ...Object.entries(auth.metadata ?? {}).map(([key, value]) => [`token_meta_${key}`, value] as const),
  ];
}

async function finishLogin(response: VaultResponse, auth: AuthInfo, options: LoginOptions): Promise<void> {
  if (options.store) await storeToken(auth.client_token);
  const format = outputFormat(options);
  if (options.field) return printField({ token: auth.client_token, ...auth }, options.field);
  if (format === "json") return printJson(response);
  if (options.store) {
    process.stdout.write(`Success! You are now logged in. The token is stored in ${tokenFilePath()}.\n\n`);
  } else {
    process.stdout.write("Success! You are now logged in. The token was not stored: keep it safe.\n\n");
  }
  printTable(authRows(auth, !options.store));
  for (const name of ["COFFER_TOKEN", "VAULT_TOKEN"]) {
    if (process.env[name]?.trim()) {
      process.stderr.write(`\nWarning: ${name} is set and takes precedence over the stored token.\n`);
      break;
    }
  }
}

async function readJwt(file: string): Promise<string> {
  let jwt: string;
  try {
    jwt = (await readFile(file, "utf8")).trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read the service account token at ${file}: ${code === "ENOENT" ? "no such file" : code}; pass --jwt-file`,
    );
  }
  if (jwt === "") throw new UsageError(`the service account token file ${file} is empty`);
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
        await finishLogin(response, response.auth, options);
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
        await finishLogin({ ...(response as VaultResponse), auth }, auth, options);
      }),
    );
}
