/**
 * sys/remount: moves a mount to another path, secrets engine or auth method, as Vault's
 * does: its data and settings move with it (they are keyed by the mount's uuid, which
 * stays), and what it issued under the old path ends: the leases of a secrets engine, the
 * tokens of an auth method (and their leases), since their ids and policies name the old
 * path. Vault runs the move in the background; Coffer runs it within the request and
 * answers Vault's migration id, whose status (sys/remount/status/<id>) is then final.
 *
 * One resumable operation, in steps that can each be repeated: record the migration,
 * end what the mount issued, move the entry in one atomic write, then end the leases issued
 * under the old path in the meantime (a process's mount table may be 5 s stale). If a step
 * fails the migration is recorded as failed and the same request resumes it: the entry
 * still at `from` starts over, the entry already at `to` finishes the last step.
 */
import { revocationResponse } from "../auth/tokens/revocation-response.ts";
import type { Broker } from "../broker.ts";
import { type EngineResponse, type Route, route } from "../engines/engine.ts";
import type { Mount } from "../engines/mount.ts";
import { invalidRequest } from "../errors.ts";
import { allowedMountPath, normalizeMountPath } from "../mounts/mount-table.ts";
import type { Item } from "../store/item-store.ts";
import { revokeResponse } from "./leases.ts";

const PARTITION = "remount";

type MigrationStatus = "in-progress" | "success" | "failure";

interface Migration {
  id: string;
  from: string;
  to: string;
  uuid: string;
  status: MigrationStatus;
  startedAt: string;
  error?: string;
}

function migrationFromItem(item: Item): Migration {
  return {
    id: item.sk,
    from: String(item.from),
    to: String(item.to),
    uuid: String(item.uuid),
    status: item.status as MigrationStatus,
    startedAt: String(item.started_at),
    ...(typeof item.error === "string" ? { error: item.error } : {}),
  };
}

export function remountRoutes(broker: Broker): Route[] {
  const store = broker.store;

  async function save(migration: Migration): Promise<void> {
    const { id, from, to, uuid, status, startedAt, error } = migration;
    await store.write([
      {
        op: "put",
        item: {
          pk: PARTITION,
          sk: id,
          from,
          to,
          uuid,
          status,
          started_at: startedAt,
          ...(error ? { error } : {}),
        },
      },
    ]);
  }

  async function unfinished(from: string, to: string): Promise<Migration | undefined> {
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk: PARTITION, cursor });
      for (const item of page.items) {
        const migration = migrationFromItem(item);
        if (migration.from === from && migration.to === to && migration.status !== "success")
          return migration;
      }
      cursor = page.cursor;
    } while (cursor);
    return undefined;
  }

  /** Ends what the mount issued before the move: a secrets engine's leases, an auth method's tokens. */
  async function endIssued(mount: Mount, path: string, requestId: string): Promise<void> {
    if (mount.path.startsWith("auth/")) {
      // Not finished in this request (a large tree): 503, and the same request resumes.
      revocationResponse(
        await broker.tokens.revokeByAuthMount(mount.accessor, { requestId }),
        `the tokens of ${mount.path} are revoked and can no longer be used`,
      );
      return;
    }
    await endLeasesUnder(path, requestId);
  }

  /**
   * Leases still under the old path once the mount has moved: issued by a process whose
   * mount table was up to 5 s stale. Only leases, found by their path: an auth method's
   * tokens are found by its accessor, which the moved mount keeps, so a second pass would
   * also end the tokens it issued at its new path.
   */
  async function endLeasesUnder(path: string, requestId: string): Promise<void> {
    revokeResponse(await broker.leases.revokePrefix(path, { requestId, sync: true }), true);
  }

  async function mountAt(path: string): Promise<Mount | undefined> {
    return (await broker.mounts.list()).find((mount) => mount.path === path);
  }

  async function remount(from: string, to: string, requestId: string): Promise<Migration> {
    if (from.startsWith("auth/") && !to.startsWith("auth/")) {
      throw invalidRequest("cannot remount auth mount to non-auth mount");
    }
    if (!from.startsWith("auth/") && to.startsWith("auth/")) {
      throw invalidRequest("cannot remount non-auth mount to auth mount");
    }
    const source = await mountAt(from);
    const resumed = await unfinished(from, to);
    // Moved already by a migration that failed after the move: finish it.
    const atTarget = resumed && !source ? await mountAt(to) : undefined;
    const moved = atTarget?.uuid === resumed?.uuid ? atTarget : undefined;
    const mount = source ?? moved;
    if (!mount) throw invalidRequest(`no matching mount at "${from}"`);
    if (mount.builtin) throw invalidRequest(`cannot remount "${from}"`);
    if (source) {
      // Checked before anything ends, so a move that cannot happen revokes nothing.
      allowedMountPath(to);
      const taken = (await broker.mounts.list()).find(
        (other) => to.startsWith(other.path) || other.path.startsWith(to),
      );
      if (taken) throw invalidRequest(`path is already in use at ${taken.path}`);
    }
    const migration: Migration = resumed ?? {
      id: crypto.randomUUID(),
      from,
      to,
      uuid: mount.uuid,
      status: "in-progress",
      startedAt: new Date(broker.now()).toISOString(),
    };
    migration.status = "in-progress";
    delete migration.error;
    await save(migration);
    try {
      if (source) {
        await endIssued(source, from, requestId);
        await broker.mounts.move(from, to, source.uuid);
      }
      if (!from.startsWith("auth/")) await endLeasesUnder(from, requestId);
      migration.status = "success";
    } catch (error) {
      migration.status = "failure";
      migration.error = error instanceof Error ? error.message : String(error);
      await save(migration);
      throw error;
    }
    await save(migration);
    return migration;
  }

  return [
    route({
      pattern: /^remount$/,
      sudo: true,
      fields: {
        from: { type: "string", description: "The mount's path now." },
        to: { type: "string", description: "The path to move it to." },
        config: {
          type: "object",
          description: "Ignored, as Vault ignores it: tune the mount after moving it.",
        },
      },
      operations: {
        update: async (request): Promise<EngineResponse> => {
          if (!request.fields.from || !request.fields.to) {
            throw invalidRequest("both 'from' and 'to' path must be specified as a string");
          }
          const from = normalizeMountPath(request.fields.from);
          const to = normalizeMountPath(request.fields.to);
          const migration = await remount(from, to, request.id);
          return { data: { migration_id: migration.id } };
        },
      },
    }),
    route({
      pattern: /^remount\/status\/(?<migration_id>.+)$/,
      sudo: true,
      fields: { migration_id: { type: "string", path: true, description: "The id sys/remount answered." } },
      operations: {
        read: async (request): Promise<EngineResponse> => {
          const item = await store.get({ pk: PARTITION, sk: request.fields.migration_id });
          if (!item) return { status: 404, raw: { errors: [] } };
          const migration = migrationFromItem(item);
          return {
            data: {
              migration_id: migration.id,
              migration_info: {
                source_mount: migration.from,
                target_mount: migration.to,
                status: migration.status,
                ...(migration.error ? { error: migration.error } : {}),
              },
            },
          };
        },
      },
    }),
  ];
}
