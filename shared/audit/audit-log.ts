/**
 * One audit record per request, allowed or denied. Every string value that came from or
 * goes to the caller (request and response data, the token accessor, identity metadata)
 * is replaced by "hmac-sha256:<hex>" under a key derived from the keyring, as Vault does:
 * an operator can hash a known value and search for it, but the log reveals nothing.
 * Paths, operations, statuses and error messages stay readable; errors never carry
 * caller-supplied secrets.
 *
 * A request is answered only after its record is written: if auditing fails, the request
 * fails (fail closed, as Vault does).
 */
export type AuditWriter = (line: string) => void | Promise<void>;

export interface AuditEntry {
  requestId: string;
  operation: string;
  path: string;
  mountType?: string;
  remoteAddress?: string;
  status: number;
  error?: string;
  accessor?: string;
  policies?: string[];
  displayName?: string;
  metadata?: Record<string, string>;
  requestData?: unknown;
  responseData?: unknown;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** "hmac-sha256:<hex>" of a value, as it appears in the log (Vault's sys/audit-hash). */
  hash(value: string): Promise<string>;
}

export function createAuditLog(options: {
  writers: readonly AuditWriter[];
  hmac: (value: string) => Promise<string>;
  now?: () => number;
}): AuditLog {
  const { writers, now = Date.now } = options;
  const hash = async (value: string) => `hmac-sha256:${await options.hmac(value)}`;

  async function hashStrings(value: unknown): Promise<unknown> {
    if (typeof value === "string") return hash(value);
    if (Array.isArray(value)) return Promise.all(value.map(hashStrings));
    if (value !== null && typeof value === "object") {
      const entries = await Promise.all(
        Object.entries(value).map(async ([key, inner]) => [key, await hashStrings(inner)] as const),
      );
      return Object.fromEntries(entries);
    }
    return value;
  }

  return {
    hash,
    async record(entry) {
      if (writers.length === 0) return;
      const line = JSON.stringify({
        time: new Date(now()).toISOString(),
        type: "request",
        request: {
          id: entry.requestId,
          operation: entry.operation,
          path: entry.path,
          mount_type: entry.mountType,
          remote_address: entry.remoteAddress,
          data: await hashStrings(entry.requestData),
        },
        auth: entry.accessor
          ? {
              accessor: await hash(entry.accessor),
              policies: entry.policies,
              display_name: entry.displayName,
              metadata: await hashStrings(entry.metadata),
            }
          : undefined,
        response: { status: entry.status, data: await hashStrings(entry.responseData) },
        error: entry.error,
      });
      await Promise.all(writers.map((write) => write(line)));
    },
  };
}

/** Writes records as JSON lines to the console: CloudWatch Logs on Lambda. */
export const consoleAuditWriter: AuditWriter = (line) => {
  console.log(line);
};
