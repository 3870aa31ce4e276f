/**
 * Where a KV secret lives: `coffer kv get secret/app/db` names the mount and the path
 * below it in one argument, as the vault CLI takes it. The server says which mount
 * serves the path and its KV version (sys/internal/ui/mounts, as the vault CLI asks);
 * where it cannot, the first segment is the mount and the version is 2. --mount names the
 * mount explicitly, for mounts with a slash in their path.
 */
import { ApiError, type VaultResponse } from "../client.ts";
import { type Connection, connect } from "./connection.ts";
import { HintedError, LocalError } from "./exit-codes.ts";

export interface KvPath {
  /** Without slashes around it: "secret". */
  mount: string;
  /** Below the mount: "app/db" (may be "" for a list of the mount's root). */
  path: string;
  version: 1 | 2;
}

const trim = (text: string) => text.replace(/^\/+|\/+$/g, "");

export async function locateKv(
  connection: Connection,
  argument: string,
  mountOption: string | undefined,
  { allowEmpty = false }: { allowEmpty?: boolean } = {},
): Promise<KvPath> {
  const full = mountOption === undefined ? trim(argument) : `${trim(mountOption)}/${trim(argument)}`;
  const served = await askServer(connection, full);
  let mount: string;
  if (mountOption !== undefined) mount = trim(mountOption);
  else mount = served?.mount ?? full.split("/")[0] ?? "";
  const path = mountOption !== undefined ? trim(argument) : trim(full.slice(mount.length));
  if (mount === "") throw new LocalError("missing the mount: write it as <mount>/<path>, e.g. secret/app/db");
  if (path === "" && !allowEmpty) {
    throw new LocalError(`missing the secret's path below the mount: e.g. ${mount}/app/db`);
  }
  return { mount, path, version: served?.mount === mount ? served.version : 2 };
}

async function askServer(
  connection: Connection,
  full: string,
): Promise<{ mount: string; version: 1 | 2 } | undefined> {
  let response: VaultResponse | undefined;
  try {
    response = await connection.client.request("GET", `sys/internal/ui/mounts/${full}`);
  } catch {
    // A server without the endpoint, or a token without access to it: fall back to the
    // first segment. A server that cannot be reached fails the request that follows.
    return undefined;
  }
  const data = response?.data ?? {};
  const mount = typeof data.path === "string" ? trim(data.path) : undefined;
  if (!mount || !(full === mount || full.startsWith(`${mount}/`))) return undefined;
  if (data.type !== undefined && data.type !== "kv") {
    throw new LocalError(`${mount}/ is a ${String(data.type)} mount, not a KV mount`);
  }
  const options = (data.options ?? {}) as Record<string, unknown>;
  return { mount, version: String(options.version ?? "1") === "2" ? 2 : 1 };
}

/** Commands that exist only for versioned secrets refuse a KV version 1 mount by name. */
export function requireVersion2(located: KvPath, command: string): void {
  if (located.version !== 2) {
    throw new LocalError(`kv ${command} needs a KV version 2 mount: ${located.mount}/ is version 1`);
  }
}

export const MOUNT_OPTION = ["--mount <path>", "the KV mount, when the path does not start with it"] as const;

/** Connects and locates the secret; `at("data")` is its API path, e.g. "secret/data/app/db". */
export async function openKv(
  pathArgument: string,
  options: { address?: string; mount?: string },
  allowEmpty = false,
) {
  const connection = await connect(options);
  const located = await locateKv(connection, pathArgument, options.mount, { allowEmpty });
  // KV version 1 has no data/, metadata/ or delete/ prefixes: the secret is at its path.
  const at = (kind: string) =>
    located.version === 1 ? `${located.mount}/${located.path}` : `${located.mount}/${kind}/${located.path}`;
  return { connection, located, at };
}

/** A 404 from KV, explained: nothing there, or a version that was deleted or destroyed. */
export function explainNotFound(error: unknown, located: KvPath, kind = "data"): unknown {
  if (!(error instanceof ApiError && error.status === 404)) return error;
  const where =
    located.version === 1 ? `${located.mount}/${located.path}` : `${located.mount}/${kind}/${located.path}`;
  const metadata = (error.body?.data?.metadata ?? undefined) as Record<string, unknown> | undefined;
  if (metadata?.destroyed === true) {
    return new Error(`version ${metadata.version} of ${where} was destroyed: it cannot be read again`);
  }
  if (metadata && typeof metadata.deletion_time === "string" && metadata.deletion_time !== "") {
    return new HintedError(
      new Error(`version ${metadata.version} of ${where} was deleted at ${metadata.deletion_time}`),
      `Hint: \`coffer kv undelete --versions ${metadata.version} ${located.mount}/${located.path}\` restores it`,
    );
  }
  return error.errors.length === 0 ? new Error(`no value found at ${where}`) : error;
}
