/**
 * `vault:v<N>:<payload>`, the form of transit signatures and HMACs, split as Vault splits
 * them: the prefix "vault:v", the version up to the next ":" (Go's Atoi, so "+2" and "-1"
 * are versions too and are refused later by policy), then the payload, which may hold ":".
 */
import { goAtoi } from "./go-atoi.ts";

const PREFIX = "vault:v";

export type VersionedText =
  | { version: number; payload: string }
  | { problem: "no prefix" | "wrong number of fields" | "version" };

export function splitVersioned(text: string): VersionedText {
  if (!text.startsWith(PREFIX)) return { problem: "no prefix" };
  const rest = text.slice(PREFIX.length);
  const colon = rest.indexOf(":");
  if (colon === -1) return { problem: "wrong number of fields" };
  const version = goAtoi(rest.slice(0, colon));
  if ("error" in version) return { problem: "version" };
  return { version: version.value, payload: rest.slice(colon + 1) };
}

export const formatVersioned = (version: number, payload: string) => `${PREFIX}${version}:${payload}`;
