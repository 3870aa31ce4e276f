/**
 * database/rotate-root/<name>: a new root password, set in the database by the
 * connection's root rotation statements and stored sealed; no API ever returns it, so
 * after a rotation nobody knows the root password but Coffer.
 *
 * The new password is stored as pending before the database changes, and made the current
 * one after. A process that dies in between leaves the pending password, which the next
 * connection that finds the old one refused tries, and keeps (connections.ts): the
 * database and the store never disagree for good, and the password is never lost.
 */
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import { hasLiteralPassword } from "./connection-url.ts";
import type { Connections } from "./connections.ts";
import { checkName, NAME } from "./names.ts";
import { generatePassword } from "./password.ts";
import { scramVerifier } from "./scram-verifier.ts";
import { renderStatement } from "./statement-template.ts";
import { runInTransaction } from "./transaction.ts";

/** Vault's default for PostgreSQL. */
export const DEFAULT_ROOT_ROTATION_STATEMENTS = [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`];

export function rotateRootRoute(connections: Connections): Route {
  return route({
    pattern: /^rotate-root\/(?<name>[^/]+)$/,
    fields: { name: NAME },
    operations: {
      update: async (request) => {
        const name = checkName("connection", request.fields.name);
        const connection = await connections.get(name);
        const { config } = connection;
        if (config.username === "") {
          throw invalidRequest("unable to rotate root credentials: no username in configuration");
        }
        if (config.password === "") {
          throw invalidRequest("unable to rotate root credentials: no password in configuration");
        }
        if (hasLiteralPassword(config.connectionUrl)) {
          throw invalidRequest(
            "unable to rotate root credentials: connection_url holds the password itself; template it as {{password}}",
          );
        }
        const password = generatePassword();
        const passwordInStatements =
          config.passwordAuthentication === "scram-sha-256" ? await scramVerifier(password) : password;
        const statements =
          config.rootRotationStatements.length > 0
            ? config.rootRotationStatements
            : DEFAULT_ROOT_ROTATION_STATEMENTS;
        const values = { name: config.username, username: config.username, password: passwordInStatements };

        const pending = await connections.save(
          name,
          { ...config, pendingPassword: password },
          connection.version,
        );
        // On failure the pending password stays: whether the database took it is not
        // always known (a lost COMMIT), and it is only ever tried when the current one fails.
        await connections.run(
          pending,
          "rotate the root password",
          (client) =>
            runInTransaction(
              client,
              statements.map((statement) => renderStatement(statement, values)),
            ),
          [password, passwordInStatements],
        );
        // Saving retires this process's pool of the pending version too.
        await connections.save(name, { ...config, password, pendingPassword: "" }, pending.version);
        return {};
      },
    },
  });
}
