/** The `transit/` mount `coffer dev` starts with, as Vault's dev server starts with `secret/`. */
import type { Broker } from "../shared/broker.ts";
import { isCofferError } from "../shared/errors.ts";

export const DEV_TRANSIT_PATH = "transit/";

/** Mounts transit at `transit/` unless something is mounted there already. */
export async function mountDevTransit(broker: Broker): Promise<void> {
  if ((await broker.mounts.list()).some((mount) => mount.path === DEV_TRANSIT_PATH)) return;
  try {
    await broker.mounts.enable({
      path: DEV_TRANSIT_PATH,
      type: "transit",
      description: "encryption as a service",
    });
  } catch (error) {
    // Another process mounted it between the check and the write: that is the goal.
    if (!isCofferError(error, "ERR_INVALID_REQUEST")) throw error;
  }
}
