/**
 * Names of generated users: "v-<namespace>-<service account>-<role>-<random>", or
 * "v-<token display name>-<role>-<random>" for tokens from no Kubernetes login, in
 * lower-case letters, digits, "_" and "-", at most 63 bytes (PostgreSQL's identifier
 * limit, beyond which it would silently truncate and two users could collide). Every part
 * is cut to fit; the random suffix never is, so names stay unique, and an operator reading
 * pg_stat_activity still sees who a session belongs to. The namespace and service account
 * come from the caller's proven identity only, never from the token's `meta`.
 */
import type { Caller } from "../engine.ts";
import { workloadOf } from "../proven-identity.ts";
import { randomString } from "./password.ts";

/** PostgreSQL's NAMEDATALEN - 1. */
export const MAX_USERNAME_BYTES = 63;
const SUFFIX_LENGTH = 12;
const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Lower case, anything outside [a-z0-9_] as one "-", no "-" at either end: never "--". */
const clean = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");

function identityParts(caller: Pick<Caller, "identity" | "displayName"> | undefined): string[] {
  const workload = workloadOf(caller?.identity);
  const namespace = clean(workload?.namespace ?? "");
  const serviceAccount = clean(workload?.serviceAccount ?? "");
  if (namespace && serviceAccount) return [namespace, serviceAccount];
  return [clean(caller?.displayName ?? "") || "coffer"];
}

export function generateUsername(
  caller: Pick<Caller, "identity" | "displayName"> | undefined,
  role: string,
): string {
  const parts = [...identityParts(caller), clean(role) || "role"];
  // "v-", the parts and their "-", and the suffix must fit: short parts keep their length, long ones share the rest.
  let room = MAX_USERNAME_BYTES - 2 - SUFFIX_LENGTH - parts.length;
  const budget = parts.map(() => 0);
  const order = parts.map((_, index) => index).sort((a, b) => parts[a]!.length - parts[b]!.length);
  order.forEach((index, position) => {
    const fair = Math.floor(room / (order.length - position));
    budget[index] = Math.min(parts[index]!.length, fair);
    room -= budget[index]!;
  });
  const cut = parts.map((part, index) => part.slice(0, budget[index]).replace(/-+$/, "") || "x");
  return `v-${cut.join("-")}-${randomString(SUFFIX_ALPHABET, SUFFIX_LENGTH)}`;
}
