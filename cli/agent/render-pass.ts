/**
 * One rendering of every entry against the secrets the agent holds. A template in Vault
 * Agent's language names its secrets as it runs (`secret (printf "db/creds/%s" (env
 * "ROLE"))`), so, as consul-template does, a render that meets a secret the agent does
 * not hold yet asks for it and is thrown away: the agent reads what was asked for and
 * renders again.
 */
import { readFileSync } from "node:fs";
import type { SecretEntry } from "./config.ts";
import { FunctionError, type TemplateHost } from "./go-template/functions.ts";
import { GoStruct } from "./go-template/go-values.ts";
import { renderSecret } from "./render.ts";
import { type FetchedSecret, requestKey, type SecretRequest } from "./secret-source.ts";

export interface RenderOutcome {
  /** Every entry's content, when nothing was pending and nothing failed. */
  contents: Map<SecretEntry, string>;
  /** Secrets a template asked for that the agent does not hold yet. */
  pending: Map<string, SecretRequest>;
  /** The keys of every secret the render read: the others are no longer needed. */
  used: Set<string>;
  /** The first error, when nothing was pending (a pending secret may be its cause). */
  error?: unknown;
}

/** Thrown by a native entry's lookup of a secret not held yet: the entry waits for the next round. */
class PendingSecret extends Error {}

/**
 * consul-template's view of a secret: the response's fields under Go's names; nil while
 * it is pending, as in consul-template, so `{{ with secret ... }}` skips its body and the
 * render goes on to ask for the template's other secrets in the same round.
 */
function secretStruct(secret: FetchedSecret | undefined): GoStruct | null {
  if (!secret) return null;
  const response = secret.response;
  return new GoStruct("*dependency.Secret", {
    RequestID: response.request_id ?? "",
    LeaseID: response.lease_id ?? "",
    LeaseDuration: response.lease_duration ?? 0,
    Renewable: response.renewable ?? false,
    Data: response.data ?? {},
    Warnings: response.warnings ?? [],
    Auth: response.auth ?? null,
    WrapInfo: null,
  });
}

function writeData(args: readonly string[]): Record<string, string> {
  const data: Record<string, string> = {};
  for (const arg of args) {
    const equals = arg.indexOf("=");
    if (equals <= 0) throw new FunctionError(`"${arg}" is not a key=value pair for the secret's write`);
    data[arg.slice(0, equals)] = arg.slice(equals + 1);
  }
  return data;
}

export function renderEntries(
  entries: readonly SecretEntry[],
  secrets: ReadonlyMap<string, FetchedSecret>,
  env: NodeJS.ProcessEnv,
): RenderOutcome {
  const contents = new Map<SecretEntry, string>();
  const pending = new Map<string, SecretRequest>();
  const used = new Set<string>();
  let error: unknown;

  const held = (request: SecretRequest): FetchedSecret | undefined => {
    const key = requestKey(request);
    used.add(key);
    const secret = secrets.get(key);
    if (!secret) pending.set(key, request);
    return secret;
  };

  const host: TemplateHost = {
    secret(path, args) {
      const request: SecretRequest = { path: path.trim().replace(/^\/+|\/+$/g, ""), kvShim: true };
      if (request.path === "") throw new FunctionError("the secret's path is empty");
      if (args.length > 0) request.data = writeData(args);
      return secretStruct(held(request));
    },
    env: (name) => env[name] ?? "",
    file(path) {
      try {
        return readFileSync(path, "utf8");
      } catch (cause) {
        throw new FunctionError(`cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`);
      }
    },
  };

  for (const entry of entries) {
    // Coffer's own entries name their secrets up front: ask for all of them in one round.
    const known = [
      ...(entry.path !== undefined && entry.format !== "consul-template" ? [entry.path] : []),
      ...(entry.template?.secretPaths ?? []),
    ];
    if (known.map((path) => held({ path, kvShim: false })).some((secret) => !secret)) continue;
    const lookup = (path: string | undefined) => {
      const secret = held({ path: (path ?? entry.path) as string, kvShim: false });
      if (!secret) throw new PendingSecret();
      return secret.values;
    };
    try {
      contents.set(entry, renderSecret(entry, lookup, host));
    } catch (caught) {
      if (!(caught instanceof PendingSecret)) error ??= caught;
    }
  }
  // A render that met a pending secret is incomplete: none of it may be written.
  return pending.size > 0 ? { contents: new Map(), pending, used } : { contents, pending, used, error };
}
