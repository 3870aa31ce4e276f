/**
 * The audit log, as Vault keeps it: a request record written before anything is done, and
 * a response record after. A request refused before its handler runs (bad input, no or
 * an invalid token, denied by policy) gets the response record only, with its status and
 * error and without the data it sent, which was never accepted.
 *
 * Every string value that came from or goes to the caller (request and response data,
 * the token accessor, identity metadata) is replaced by "hmac-sha256:<hex>" under a key
 * derived from the keyring, as Vault does: an operator can hash a known value and search
 * for it, but the log reveals nothing. Numbers and booleans stay in clear, as in Vault,
 * unless `hashNonStrings` is set. Paths, operations, statuses and error messages stay
 * readable; errors never carry caller-supplied secrets.
 *
 * If the request record cannot be written, the request must not go on; if the response
 * record cannot be written, the caller gets no answer (fail closed, as Vault does).
 */
import { type HmacKey, hmacHex } from "../crypto/hmac.ts";

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

/** What the request record holds: everything but the outcome. */
export type AuditRequest = Omit<AuditEntry, "status" | "error" | "responseData">;

/** The outcome of an audited request, for its response record. */
export type AuditResponse = Pick<AuditEntry, "status" | "error" | "responseData">;

export interface AuditedRequest {
  response(outcome: AuditResponse): Promise<void>;
}

export interface AuditLog {
  /** Writes the request record; throws when it cannot be written. */
  request(entry: AuditRequest): Promise<AuditedRequest>;
  /** One response record on its own: a request refused before its handler, a lease revocation. */
  record(entry: AuditEntry): Promise<void>;
  /** "hmac-sha256:<hex>" of a value, as it appears in the log (Vault's sys/audit-hash). */
  hash(value: string): Promise<string>;
  /** Derives the HMAC key now, so a request never waits for (or fails on) its derivation. */
  loadKey(): Promise<void>;
}

export interface AuditLogOptions {
  writers: readonly AuditWriter[];
  /** The HMAC key, derived on first use and kept. */
  key: () => Promise<HmacKey>;
  /** Hash numbers and booleans too (Vault leaves them in clear). */
  hashNonStrings?: boolean;
  now?: () => number;
}

const PREFIX = "hmac-sha256:";

/** A value to hash, and where its hash goes in the copy being built. */
interface Slot {
  holder: Record<string, unknown>;
  key: string;
  text: string;
}

/**
 * Sets an own property, also one named "__proto__", which plain assignment would take as
 * the prototype. Copies stay plain objects: JSON.stringify handles those far deeper than
 * objects without a prototype.
 */
function put(holder: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(holder, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    holder[key] = value;
  }
}

/**
 * A copy of `value`, as the `value` field of the holder returned, in which every leaf to
 * hash is replaced by `hash(text)` as the walk meets it: one walk. Before the key is
 * loaded (`hash` undefined) the leaves are left empty and listed in `slots`, to be filled
 * once it is. Iterative, so no nesting depth can exhaust the stack.
 */
function copyForHashing(
  value: unknown,
  hashNonStrings: boolean,
  hash: ((text: string) => string) | undefined,
  slots: Slot[],
): { value?: unknown } {
  const root: Record<string, unknown> = {};
  const pending: [Record<string, unknown>, string, unknown][] = [[root, "value", value]];
  const leaf = (holder: Record<string, unknown>, key: string, text: string) => {
    if (hash) put(holder, key, hash(text));
    else slots.push({ holder, key, text });
  };
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [holder, key, current] = next;
    if (typeof current === "string") {
      leaf(holder, key, current);
    } else if (hashNonStrings && (typeof current === "number" || typeof current === "boolean")) {
      leaf(holder, key, String(current));
    } else if (Array.isArray(current)) {
      // Filled, not holey: JSON.stringify goes far deeper through packed arrays.
      const copy: unknown[] = current.map(() => undefined);
      holder[key] = copy;
      current.forEach((item, index) => {
        pending.push([copy as unknown as Record<string, unknown>, String(index), item]);
      });
    } else if (current !== null && typeof current === "object") {
      const copy: Record<string, unknown> = {};
      put(holder, key, copy);
      for (const [innerKey, inner] of Object.entries(current)) {
        // Placed now so the copy keeps the original's key order.
        put(copy, innerKey, undefined);
        pending.push([copy, innerKey, inner]);
      }
    } else {
      put(holder, key, current);
    }
  }
  return root;
}

/**
 * Hashes of the values that identify the caller (token accessors, identity metadata such
 * as a service account's name and namespace), kept per audit log: the same few repeat on
 * every request a workload makes. Identifiers, never secrets; request and response data
 * are hashed afresh every time. Bounded, oldest entry out first.
 */
const IDENTITY_HASHES = 4096;

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { writers, now = Date.now, hashNonStrings = false } = options;
  // Set once the key is derived: from then on values are hashed as records are built.
  let loadedKey: HmacKey | undefined;
  const loadKey = async () => {
    loadedKey ??= await options.key();
    return loadedKey;
  };
  const hashWith = (key: HmacKey) => (text: string) => `${PREFIX}${hmacHex(key, text)}`;
  const hash = async (value: string) => hashWith(await loadKey())(value);

  const identityHashes = new Map<string, string>();
  function hashIdentity(key: HmacKey, text: string): string {
    let hashed = identityHashes.get(text);
    if (hashed === undefined) {
      hashed = hashWith(key)(text);
      if (identityHashes.size >= IDENTITY_HASHES)
        identityHashes.delete(identityHashes.keys().next().value as string);
      identityHashes.set(text, hashed);
    }
    return hashed;
  }

  /** Hashes values in place of the given ones; asks for the key only if there is anything to hash. */
  async function hashAll<T extends unknown[]>(...values: T): Promise<T> {
    const slots: Slot[] = [];
    const hashNow = loadedKey && hashWith(loadedKey);
    const copies = values.map((value) => copyForHashing(value, hashNonStrings, hashNow, slots));
    if (slots.length > 0) {
      const hashLate = hashWith(await loadKey());
      for (const slot of slots) put(slot.holder, slot.key, hashLate(slot.text));
    }
    return copies.map((copy) => copy.value) as T;
  }

  async function authOf(entry: AuditRequest) {
    if (!entry.accessor) return undefined;
    const key = await loadKey();
    const identity = (text: string) => hashIdentity(key, text);
    const metadata = copyForHashing(entry.metadata, hashNonStrings, identity, []).value;
    return {
      accessor: identity(entry.accessor),
      policies: entry.policies,
      display_name: entry.displayName,
      metadata,
    };
  }

  const requestOf = (entry: AuditRequest) => ({
    id: entry.requestId,
    operation: entry.operation,
    path: entry.path,
    mount_type: entry.mountType,
    remote_address: entry.remoteAddress,
  });

  async function write(record: Record<string, unknown>): Promise<void> {
    const line = JSON.stringify({ time: new Date(now()).toISOString(), ...record });
    // Synchronous writers (a file, the console) are not made to wait a turn of the loop.
    const pending: Promise<void>[] = [];
    for (const writer of writers) {
      const written = writer(line);
      if (written) pending.push(written);
    }
    if (pending.length > 0) await Promise.all(pending);
  }

  return {
    hash,
    async loadKey() {
      await loadKey();
    },

    async request(entry) {
      if (writers.length === 0) return { response: async () => {} };
      const auth = await authOf(entry);
      const [data] = await hashAll(entry.requestData);
      await write({ type: "request", auth, request: { ...requestOf(entry), data } });
      return {
        async response(outcome) {
          const [responseData] = await hashAll(outcome.responseData);
          await write({
            type: "response",
            auth,
            request: requestOf(entry),
            response: { status: outcome.status, data: responseData },
            error: outcome.error,
          });
        },
      };
    },

    async record(entry) {
      if (writers.length === 0) return;
      const auth = await authOf(entry);
      const [requestData, responseData] = await hashAll(entry.requestData, entry.responseData);
      await write({
        type: "response",
        auth,
        request: { ...requestOf(entry), data: requestData },
        response: { status: entry.status, data: responseData },
        error: entry.error,
      });
    },
  };
}

/** Writes records as JSON lines to the console: CloudWatch Logs on Lambda. */
export const consoleAuditWriter: AuditWriter = (line) => {
  console.log(line);
};
