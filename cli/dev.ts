/**
 * `coffer dev`: the whole broker on one machine, on embedded defaults, initialized and
 * ready to use. Not for production: the root token is kept in the data directory so a
 * restart can print it again.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { createApp } from "../shared/app.ts";
import type { Broker } from "../shared/broker.ts";
import { sweepEvery } from "../shared/leases/sweep-schedule.ts";
import { consoleLog } from "../shared/log.ts";
import { runPeriodicWork } from "../shared/mounts/periodic.ts";
import { initialize, isInitialized } from "../shared/sys/init.ts";
import { writeFileAtomic } from "./agent/atomic-write.ts";
import { createDevIssuer, DEV_AUTH_MOUNT, issuerUrlFor } from "./dev-issuer.ts";
import { mountDevTransit } from "./dev-transit.ts";
import { acceptListMethod } from "./list-method.ts";
import { createLocalBroker } from "./local-broker.ts";
import { devUiFiles } from "./ui-files.ts";
import { createUiSignIn, SIGN_IN_CODE_TTL_MS } from "./ui-sign-in.ts";

export interface DevOptions {
  port: number;
  host: string;
  dataDir: string;
  inMemory: boolean;
  rootToken?: string;
  auditLog?: string;
  /** Hash numbers and booleans in audit records too (Vault leaves them in clear). */
  auditHashNonStrings?: boolean;
  /** How often expired leases are revoked; the revoker function does it every minute in AWS. */
  sweepIntervalMs?: number;
}

export const DEV_SWEEP_INTERVAL_MS = 5_000;

export interface DevServer {
  url: string;
  /** The development OIDC issuer auth/kubernetes trusts. */
  issuer: string;
  rootToken: string;
  /** Opens the web UI signed in, once (cli/ui-sign-in.ts). */
  uiSignInLink: string;
  broker: Broker;
  close(): Promise<void>;
}

/** The root token to print: created on first start, remembered in the data directory after. */
async function ensureRootToken(broker: Broker, options: DevOptions): Promise<string> {
  const tokenFile = join(options.dataDir, "root-token");
  if (!(await isInitialized(broker))) {
    const { rootToken } = await initialize(broker, { rootToken: options.rootToken });
    // Atomic, mode 0600: a crash mid-write must not leave a truncated token to print later.
    if (!options.inMemory) await writeFileAtomic(tokenFile, rootToken);
    return rootToken;
  }
  if (options.rootToken) {
    if (!(await broker.tokens.lookup(options.rootToken))) {
      await broker.tokens.create({
        policies: ["root"],
        displayName: "root",
        path: "auth/token/root",
        ttl: 0,
        token: options.rootToken,
      });
    }
    return options.rootToken;
  }
  if (existsSync(tokenFile)) return readFileSync(tokenFile, "utf8").trim();
  throw new Error(
    `${options.dataDir} is initialized but holds no root token: pass --root-token to create one`,
  );
}

async function listen(broker: Broker, options: DevOptions) {
  const rootToken = await ensureRootToken(broker, options);
  await mountDevTransit(broker);
  const app = createApp(broker, {
    rawPath: (env) => (env as { incoming?: { url?: string } } | undefined)?.incoming?.url,
    ui: devUiFiles(),
  });
  const uiSignIn = createUiSignIn({
    broker,
    announce: (link) => process.stdout.write(`Web UI sign-in link (${signInValidity}): ${link}\n`),
  });
  const devIssuer = await createDevIssuer(
    broker,
    options.inMemory ? undefined : join(options.dataDir, "dev-issuer.jwk"),
  );
  const server = createAdaptorServer({
    fetch: devIssuer.wrap(uiSignIn.wrap(app.fetch)),
    hostname: options.host,
  }) as Server;
  acceptListMethod(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return { rootToken, app, devIssuer, uiSignIn, server };
}

export async function startDevServer(options: DevOptions): Promise<DevServer> {
  const broker = await createLocalBroker(options);
  let started: Awaited<ReturnType<typeof listen>>;
  try {
    started = await listen(broker, options);
  } catch (error) {
    // A start that fails (port in use, unreadable issuer key) leaves no database open.
    await broker.store.close();
    throw error;
  }
  const { rootToken, app, devIssuer, uiSignIn, server } = started;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `http://${options.host}:${port}`;
  await devIssuer.start(url, app, rootToken);
  const uiSignInLink = await uiSignIn.start(issuerUrlFor(url));
  const sweepIntervalMs = options.sweepIntervalMs ?? DEV_SWEEP_INTERVAL_MS;
  const sweeps = sweepEvery(broker.leases, sweepIntervalMs, consoleLog, async () => {
    const work = await runPeriodicWork(broker, { deadline: broker.now() + sweepIntervalMs });
    if (work.done > 0 || work.errors.length > 0) {
      consoleLog(work.complete ? "info" : "warn", "periodic work", { ...work });
    }
  });
  return {
    url,
    issuer: devIssuer.url,
    rootToken,
    uiSignInLink,
    broker,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sweeps.stop();
      await broker.store.close();
    },
  };
}

const signInValidity = `one use, ${SIGN_IN_CODE_TTL_MS / 60_000} minutes`;

export function banner(server: DevServer, options: DevOptions): string {
  const storage = options.inMemory
    ? "in memory (gone when this process stops)"
    : `${options.dataDir}/coffer.db`;
  return [
    "",
    `Coffer dev server listening on ${server.url}`,
    `  storage:    SQLite, ${storage}`,
    `  root key:   ${options.inMemory ? "in memory" : `${options.dataDir}/root.key`} (local key provider)`,
    `  root token: ${server.rootToken}`,
    `  web UI:     ${server.uiSignInLink}`,
    `              (signs in as root; ${signInValidity}; a new link is printed when it is used)`,
    "",
    "Development mode: do not use it for real secrets. Try it:",
    "",
    `  export VAULT_ADDR=${server.url}`,
    `  export VAULT_TOKEN=${server.rootToken}`,
    `  curl -s -H "X-Vault-Token: $VAULT_TOKEN" -X POST -d '{"data":{"password":"s3cr3t"}}' $VAULT_ADDR/v1/secret/data/app/db`,
    `  curl -s -H "X-Vault-Token: $VAULT_TOKEN" $VAULT_ADDR/v1/secret/data/app/db`,
    "",
    `Kubernetes auth: auth/${DEV_AUTH_MOUNT} trusts the development issuer ${server.issuer}. Log in as a pod would:`,
    "",
    `  curl -s -H "X-Vault-Token: $VAULT_TOKEN" -X POST -d '{"bound_service_account_names":"app","bound_service_account_namespaces":"default","audience":"coffer","token_policies":"default"}' $VAULT_ADDR/v1/auth/${DEV_AUTH_MOUNT}/role/app`,
    "  JWT=$(npx coffer dev token --namespace default --service-account app --audience coffer)",
    `  curl -s -X POST -d "{\\"role\\":\\"app\\",\\"jwt\\":\\"$JWT\\"}" $VAULT_ADDR/v1/auth/${DEV_AUTH_MOUNT}/login`,
    "",
    "Press Ctrl-C to stop.",
    "",
  ].join("\n");
}
