/**
 * Runs a real PostgreSQL server for one test file: a fresh cluster in a temporary
 * directory, on a free loopback port, with a superuser password and SCRAM on every TCP
 * connection (so a wrong password is refused, as on a real server). Under root the server
 * runs as the `postgres` OS user, which PostgreSQL requires.
 *
 * A suite that needs it is `describe.skipIf(!postgresAvailable())` and calls
 * `usePostgres()`. Where PostgreSQL is missing, such suites skip with a loud line; with CI
 * set, a missing server fails the run instead.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./moto.ts";
import { useSuiteServer } from "./suite-server.ts";

const BIN_DIR = process.env.COFFER_PG_BIN ?? "/usr/local/bin";
const OS_USER = "postgres";
export const SUPERUSER = "postgres";

export interface Postgres {
  host: string;
  port: number;
  /** The superuser and its password. */
  user: string;
  password: string;
  database: string;
  /** postgresql://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  /** A URL for someone else on the same server and database. */
  urlFor(user: string, password: string): string;
  /**
   * Runs one query as the superuser, on a connection of its own through the local socket
   * (trusted), so it works whatever the superuser's password has become.
   */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Gives the superuser its original password back (after a test rotated it). */
  restorePassword(): Promise<void>;
  /** What the server has logged so far. */
  serverLog(): string;
  /** Stops the server (fast shutdown), keeping its data for start(). */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const binary = (name: string) => join(BIN_DIR, name);

function osUserExists(): boolean {
  return spawnSync("id", ["-u", OS_USER], { stdio: "ignore" }).status === 0;
}

export function postgresAvailable(): boolean {
  const available =
    existsSync(binary("initdb")) &&
    existsSync(binary("pg_ctl")) &&
    existsSync(binary("postgres")) &&
    (process.getuid?.() !== 0 || osUserExists());
  if (!available) {
    if (process.env.CI) {
      throw new Error(`PostgreSQL is not installed in ${BIN_DIR}; CI requires the database suites to run`);
    }
    console.warn(
      `\n*** PostgreSQL not found in ${BIN_DIR}: SKIPPING the database suites (set COFFER_PG_BIN) ***\n`,
    );
  }
  return available;
}

/** Runs a PostgreSQL program as the OS user that owns the cluster. */
function runAsOwner(program: string, args: string[]): void {
  const [command, commandArgs] =
    process.getuid?.() === 0
      ? ["runuser", ["-u", OS_USER, "--", binary(program), ...args]]
      : [binary(program), args];
  const result = spawnSync(command, commandArgs, { encoding: "utf8", timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(`${program} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

function ownerIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync("id", ["-u", OS_USER], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", OS_USER], { encoding: "utf8" }).stdout.trim());
  return { uid, gid };
}

const running = new Set<string>();
// A test process that ends without stopping its server must not leave it running.
process.once("exit", () => {
  for (const dataDir of running) {
    try {
      runAsOwner("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    } catch {
      // already gone
    }
  }
});

/** A PostgreSQL server for the enclosing suite, running from its beforeAll to its afterAll. */
export function usePostgres(): Postgres {
  return useSuiteServer(startPostgres, (postgres) => postgres.stop());
}

export async function startPostgres(): Promise<Postgres> {
  const root = mkdtempSync(join(tmpdir(), "coffer-pg-"));
  const dataDir = join(root, "data");
  const password = Array.from(crypto.getRandomValues(new Uint8Array(18)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  const passwordFile = join(root, "superuser-password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const ids = ownerIds();
  if (ids) {
    chownSync(root, ids.uid, ids.gid);
    chownSync(passwordFile, ids.uid, ids.gid);
  }
  chmodSync(root, 0o700);
  runAsOwner("initdb", [
    "-D",
    dataDir,
    "-U",
    SUPERUSER,
    `--pwfile=${passwordFile}`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  rmSync(passwordFile);
  const port = await freePort();
  const host = "127.0.0.1";
  const options = [
    `-c listen_addresses=${host}`,
    `-c port=${port}`,
    `-c unix_socket_directories=${root}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  const start = async () => {
    runAsOwner("pg_ctl", ["-D", dataDir, "-o", options, "-l", join(root, "server.log"), "-w", "start"]);
    running.add(dataDir);
  };
  const pause = async () => {
    runAsOwner("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]);
    running.delete(dataDir);
  };
  await start();

  async function query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    const client = new pg.Client({ host: root, port, user: SUPERUSER, password: "", database: "postgres" });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }
  const urlFor = (user: string, secret: string) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@${host}:${port}/postgres`;
  return {
    host,
    port,
    user: SUPERUSER,
    password,
    database: "postgres",
    url: urlFor(SUPERUSER, password),
    urlFor,
    query,
    serverLog: () => readFileSync(join(root, "server.log"), "utf8"),
    async restorePassword() {
      await query(`ALTER ROLE ${SUPERUSER} PASSWORD '${password}'`);
    },
    pause,
    start,
    async stop() {
      if (running.has(dataDir)) await pause();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Whether a user can log in to the server with this password (over TCP, as a client would). */
export async function canLogIn(postgres: Postgres, user: string, password: string): Promise<boolean> {
  const client = new pg.Client({
    host: postgres.host,
    port: postgres.port,
    database: postgres.database,
    user,
    password,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
