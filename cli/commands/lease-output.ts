/**
 * How a secret that came with a lease is shown: the lease first, as the vault CLI does,
 * then the secret's own fields.
 */
import type { VaultResponse } from "../client.ts";
import type { Rows } from "./output.ts";

export function leaseRows(response: VaultResponse): Rows {
  return [
    ["lease_id", response.lease_id],
    ["lease_duration", `${response.lease_duration}s`],
    ["lease_renewable", response.renewable],
  ];
}

/** The lease as fields, for `-field=lease_id` and the like. */
export function leaseFields(response: VaultResponse) {
  return {
    lease_id: response.lease_id,
    lease_duration: response.lease_duration,
    renewable: response.renewable,
  };
}
