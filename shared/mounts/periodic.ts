/**
 * What the scheduled revoker runs after its lease sweep: each mount's periodic work
 * (Engine.periodic: transit keys due for rotation, unfinished KV removals, whatever an
 * engine declares), through the one engine instance of the mount, so its caches see what
 * it changed. Each engine's work is idempotent, stops at the deadline and resumes on the
 * next tick; a failure in one mount never stops the others.
 */
import type { Broker } from "../broker.ts";

export interface MountWork {
  path: string;
  type: string;
  done: number;
  failed: number;
  complete: boolean;
}

export interface PeriodicWorkReport {
  /** Units of work done (keys rotated, secrets cleaned up) across every mount. */
  done: number;
  /** Units that failed; each engine retries them on its next run. */
  failed: number;
  /** False when the deadline came first, or a mount's work could not run: the next tick continues. */
  complete: boolean;
  /** The mounts that did something, failed or did not finish. */
  mounts: MountWork[];
  errors: string[];
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function runPeriodicWork(
  broker: Broker,
  options: { deadline: number },
): Promise<PeriodicWorkReport> {
  const report: PeriodicWorkReport = { done: 0, failed: 0, complete: true, mounts: [], errors: [] };
  const mounts = (await broker.mounts.list()).filter((mount) => broker.engines.types[mount.type]);
  for (const mount of mounts) {
    if (broker.now() >= options.deadline) {
      report.complete = false;
      break;
    }
    try {
      const engine = await broker.engineFor(mount);
      if (!engine.periodic) continue;
      const work = await engine.periodic(options.deadline);
      report.done += work.done;
      report.failed += work.failed;
      report.complete &&= work.complete;
      if (work.done > 0 || work.failed > 0 || !work.complete) {
        report.mounts.push({ path: mount.path, type: mount.type, ...work });
      }
    } catch (error) {
      report.complete = false;
      report.errors.push(`${mount.path}: ${describe(error)}`);
    }
  }
  return report;
}
