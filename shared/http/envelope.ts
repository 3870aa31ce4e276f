/**
 * Vault's response envelope. Clients (the vault CLI, Vault Agent, the SDKs, External
 * Secrets Operator) read these exact fields, so all are always present.
 */
import type { EngineResponse } from "../engines/engine.ts";

export interface VaultEnvelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: Record<string, unknown> | null;
  wrap_info: null;
  warnings: string[] | null;
  auth: EngineResponse["auth"] | null;
  mount_type: string;
}

/** Whether an answer carries a body (else it is a 204). */
export function hasBody(response: EngineResponse): boolean {
  return (
    response.data !== undefined ||
    response.auth !== undefined ||
    Boolean(response.leaseId) ||
    response.warnings !== undefined
  );
}

export function toEnvelope(requestId: string, mountType: string, response: EngineResponse): VaultEnvelope {
  return {
    request_id: requestId,
    lease_id: response.leaseId ?? "",
    renewable: response.renewable ?? false,
    lease_duration: response.leaseDuration ?? 0,
    data: response.data ?? null,
    wrap_info: null,
    warnings: response.warnings?.length ? response.warnings : null,
    auth: response.auth ?? null,
    mount_type: mountType,
  };
}
