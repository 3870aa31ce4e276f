/**
 * `coffer operator migrate --from-vault ADDR`: copies what a team keeps in Vault into
 * Coffer, reading the source through Vault's HTTP API (a token with read and list on the
 * chosen paths) and writing through Coffer's (a token allowed to write there), as any
 * client would: no store or engine format is involved on either side.
 *
 * Copied: KV v2 secrets with every version (data, deleted and destroyed states) and their
 * metadata (max_versions, cas_required, delete_version_after, custom_metadata); KV v1
 * secrets; ACL policies; Kubernetes auth methods with their config and roles. Everything
 * else is reported, not copied: engines and auth methods Coffer lacks, and what Vault
 * will not hand out (transit keys, engine credentials).
 *
 * Idempotent and resumable: each KV v2 version is written with check-and-set on the
 * version before it, so versions keep their numbers, and a second run continues after the
 * versions the target already has (and finishes a deletion a crash interrupted); KV v1,
 * policies and roles are plain overwrites of the same values.
 */
import { ApiError, type CofferClient, type VaultResponse } from "../client.ts";

export interface MigrationReport {
  copied: string[];
  notCopied: { what: string; why: string }[];
  failed: { what: string; why: string }[];
}

/** Mounts every Vault has that are not the team's data. */
const SYSTEM_MOUNTS = new Set(["sys/", "identity/", "cubbyhole/"]);
const ENGINES_WITHOUT_API_EXPORT: Record<string, string> = {
  transit: "Vault does not hand out transit keys through its API (only exportable keys, by backup)",
  aws: "its root credentials are not returned by Vault's API: configure the aws engine again",
  database: "its connection passwords are not returned by Vault's API: configure the database engine again",
};

type Data = Record<string, unknown>;

const isNotFound = (error: unknown) => error instanceof ApiError && error.status === 404;

async function read(
  client: CofferClient,
  path: string,
  query?: Record<string, string>,
): Promise<Data | undefined> {
  try {
    const answer = await client.request("GET", path, query ? { query } : {});
    return (answer?.data ?? undefined) as Data | undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function list(client: CofferClient, path: string): Promise<string[]> {
  const data = await read(client, path, { list: "true" });
  return ((data?.keys as string[] | undefined) ?? []).map(String);
}

const write = (client: CofferClient, path: string, body: unknown): Promise<VaultResponse | undefined> =>
  client.request("POST", path, { body });

const why = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function migrateFromVault(
  source: CofferClient,
  target: CofferClient,
  log: (line: string) => void = () => {},
): Promise<MigrationReport> {
  const report: MigrationReport = { copied: [], notCopied: [], failed: [] };
  const attempt = async (what: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      if (error instanceof ApiError || error instanceof Error) {
        report.failed.push({ what, why: why(error) });
        log(`failed: ${what}: ${why(error)}`);
        return;
      }
      throw error;
    }
  };

  await attempt("secrets engines", () => copyMounts(source, target, report, attempt, log));
  await attempt("policies", () => copyPolicies(source, target, report, attempt));
  await attempt("auth methods", () => copyAuthMethods(source, target, report, attempt));
  return report;
}

type Mounts = Record<string, { type: string; options?: Data }>;

async function copyMounts(
  source: CofferClient,
  target: CofferClient,
  report: MigrationReport,
  attempt: Attempt,
  log: (line: string) => void,
): Promise<void> {
  const mounts = ((await read(source, "sys/mounts")) ?? {}) as Mounts;
  const targetMounts = ((await read(target, "sys/mounts")) ?? {}) as Mounts;
  for (const [path, mount] of Object.entries(mounts).sort(([a], [b]) => a.localeCompare(b))) {
    if (SYSTEM_MOUNTS.has(path)) continue;
    const type = mount.type === "generic" ? "kv" : mount.type;
    if (type !== "kv") {
      const reason = ENGINES_WITHOUT_API_EXPORT[type] ?? `Coffer has no ${type} secrets engine`;
      report.notCopied.push({ what: `${path} (${mount.type})`, why: reason });
      continue;
    }
    const version = String(mount.options?.version ?? "1") === "2" ? "2" : "1";
    await attempt(`mount ${path}`, async () => {
      const existing = targetMounts[path];
      if (!existing) {
        await write(target, `sys/mounts/${path.replace(/\/$/, "")}`, { type: "kv", options: { version } });
        report.copied.push(`mount ${path} (kv v${version})`);
      } else if (existing.type !== "kv" || String(existing.options?.version ?? "1") !== version) {
        throw new Error(
          `the target has ${path} as ${existing.type} ${String(existing.options?.version ?? "")}`,
        );
      }
      if (version === "2") await copyKv2Tree(source, target, path, report, attempt, log);
      else await copyKv1Tree(source, target, path, report, attempt);
    });
  }
}

async function copyPolicies(
  source: CofferClient,
  target: CofferClient,
  report: MigrationReport,
  attempt: Attempt,
): Promise<void> {
  for (const name of await list(source, "sys/policies/acl")) {
    if (name === "root") continue;
    if (name === "default") {
      report.notCopied.push({ what: "policy default", why: "Coffer keeps its own default policy" });
      continue;
    }
    await attempt(`policy ${name}`, async () => {
      const policy = await read(source, `sys/policies/acl/${name}`);
      await write(target, `sys/policies/acl/${name}`, { policy: policy?.policy });
      report.copied.push(`policy ${name}`);
    });
  }
}

/**
 * Role fields Vault still returns under their old names beside the new ones; writing both
 * is refused, by Vault as by Coffer, so only the new one is sent.
 */
const DEPRECATED_ROLE_FIELDS: Record<string, string> = {
  policies: "token_policies",
  ttl: "token_ttl",
  max_ttl: "token_max_ttl",
  period: "token_period",
  num_uses: "token_num_uses",
  bound_cidrs: "token_bound_cidrs",
};

function withoutDeprecatedFields(role: Data): Data {
  const copy = { ...role };
  for (const [old, current] of Object.entries(DEPRECATED_ROLE_FIELDS)) {
    if (current in copy) delete copy[old];
  }
  return copy;
}

async function copyAuthMethods(
  source: CofferClient,
  target: CofferClient,
  report: MigrationReport,
  attempt: Attempt,
): Promise<void> {
  const auths = ((await read(source, "sys/auth")) ?? {}) as Record<string, { type: string }>;
  const targetAuths = ((await read(target, "sys/auth")) ?? {}) as Record<string, { type: string }>;
  for (const [path, auth] of Object.entries(auths).sort(([a], [b]) => a.localeCompare(b))) {
    if (auth.type === "token") continue;
    if (auth.type !== "kubernetes") {
      report.notCopied.push({
        what: `auth/${path} (${auth.type})`,
        why: `Coffer has no ${auth.type} auth method`,
      });
      continue;
    }
    const mount = path.replace(/\/$/, "");
    await attempt(`auth/${path}`, async () => {
      if (!targetAuths[path]) {
        await write(target, `sys/auth/${mount}`, { type: "kubernetes" });
        report.copied.push(`auth/${path} (kubernetes)`);
      } else if (targetAuths[path].type !== "kubernetes") {
        throw new Error(`the target has auth/${path} as ${targetAuths[path].type}`);
      }
    });
    await attempt(`auth/${mount}/config`, async () => {
      const config = await read(source, `auth/${mount}/config`);
      if (!config) return;
      await write(target, `auth/${mount}/config`, config);
      report.copied.push(`auth/${mount}/config`);
    });
    for (const role of await list(source, `auth/${mount}/role`)) {
      await attempt(`auth/${mount}/role/${role}`, async () => {
        const body = await read(source, `auth/${mount}/role/${role}`);
        if (!body) return;
        await write(target, `auth/${mount}/role/${role}`, withoutDeprecatedFields(body));
        report.copied.push(`auth/${mount}/role/${role}`);
      });
    }
  }
}

type Attempt = (what: string, run: () => Promise<void>) => Promise<void>;

/** Every secret under a folder, depth first, as LIST names them (folders end in "/"). */
async function* secretsUnder(
  client: CofferClient,
  listPath: (folder: string) => string,
  folder = "",
): AsyncGenerator<string> {
  for (const key of await list(client, listPath(folder))) {
    if (key.endsWith("/")) yield* secretsUnder(client, listPath, `${folder}${key}`);
    else yield `${folder}${key}`;
  }
}

async function copyKv1Tree(
  source: CofferClient,
  target: CofferClient,
  mount: string,
  report: MigrationReport,
  attempt: Attempt,
): Promise<void> {
  for await (const name of secretsUnder(source, (folder) => `${mount}${folder}`)) {
    const path = `${mount}${name}`;
    await attempt(path, async () => {
      const data = await read(source, path);
      if (data === undefined) return;
      await write(target, path, data);
      report.copied.push(`${path} (kv v1)`);
    });
  }
}

interface VersionState {
  deletion_time?: string;
  destroyed?: boolean;
}

const isDeleted = (state: VersionState | undefined) => Boolean(state?.deletion_time);

async function copyKv2Tree(
  source: CofferClient,
  target: CofferClient,
  mount: string,
  report: MigrationReport,
  attempt: Attempt,
  log: (line: string) => void,
): Promise<void> {
  for await (const name of secretsUnder(source, (folder) => `${mount}metadata/${folder}`)) {
    await attempt(`${mount}${name}`, async () => {
      const copied = await copyKv2Secret(source, target, mount, name);
      if (copied.notes.length > 0) {
        for (const note of copied.notes) report.notCopied.push({ what: `${mount}${name}`, why: note });
      }
      report.copied.push(`${mount}${name} (kv v2, ${copied.versions} versions)`);
      log(`copied ${mount}${name}: ${copied.versions} versions`);
    });
  }
}

async function copyKv2Secret(
  source: CofferClient,
  target: CofferClient,
  mount: string,
  name: string,
): Promise<{ versions: number; notes: string[] }> {
  const notes: string[] = [];
  const metadata = await read(source, `${mount}metadata/${name}`);
  if (!metadata) return { versions: 0, notes };
  const current = Number(metadata.current_version ?? 0);
  const oldest = Number(metadata.oldest_version ?? 0);
  const versions = (metadata.versions ?? {}) as Record<string, VersionState>;

  // Settings first: a lower default max_versions on the target would prune what is copied.
  await write(target, `${mount}metadata/${name}`, {
    max_versions: metadata.max_versions,
    cas_required: metadata.cas_required,
    delete_version_after: metadata.delete_version_after,
    custom_metadata: metadata.custom_metadata ?? {},
  });

  const targetMetadata = await read(target, `${mount}metadata/${name}`);
  const have = Number(targetMetadata?.current_version ?? 0);
  if (have > current) throw new Error(`the target has ${have} versions, the source ${current}`);
  const targetVersions = (targetMetadata?.versions ?? {}) as Record<string, VersionState>;

  for (let version = 1; version <= current; version++) {
    const state = versions[String(version)];
    const gone = version < oldest || state === undefined;
    if (version > have) {
      let data: Data = {};
      if (!gone && !state?.destroyed && !isDeleted(state)) {
        const read_ = await read(source, `${mount}data/${name}`, { version: String(version) });
        data = (read_?.data ?? {}) as Data;
      }
      await write(target, `${mount}data/${name}`, { data, options: { cas: version - 1 } });
    }
    // States after the data: a rerun finishes what a crash left half done.
    const there = targetVersions[String(version)];
    if ((gone || state?.destroyed) && !there?.destroyed) {
      await write(target, `${mount}destroy/${name}`, { versions: [version] });
    } else if (isDeleted(state) && !isDeleted(there)) {
      await write(target, `${mount}delete/${name}`, { versions: [version] });
    }
  }
  const deleted = Object.entries(versions).filter(([, state]) => isDeleted(state) && !state.destroyed);
  if (deleted.length > 0) {
    const numbers = deleted.map(([version]) => version).join(", ");
    notes.push(
      `${deleted.length === 1 ? `version ${numbers} is` : `versions ${numbers} are`} deleted at the source, so the data cannot be read: deleted on the target too, empty (undelete at the source first to carry it)`,
    );
  }
  if (oldest > 1) notes.push(`versions before ${oldest} were pruned at the source: destroyed on the target`);
  return { versions: current, notes };
}
