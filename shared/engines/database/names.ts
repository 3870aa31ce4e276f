/**
 * Names of connections and roles, as they appear in paths (config/<name>, roles/<name>)
 * and in generated user names: Vault's generic name shape, bounded.
 */
import { invalidRequest } from "../../errors.ts";
import type { PathField } from "../fields.ts";

const NAME_PATTERN = /^\w(?:[\w.-]{0,126}\w)?$/;

/** The connection or role a route acts on, from its path. */
export const NAME: PathField = {
  type: "string",
  path: true,
  description: "The connection's or role's name.",
};

export function checkName(kind: "connection" | "role", name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw invalidRequest(
      `invalid ${kind} name "${name}": use letters, digits, "_", "-" and "." (at most 128)`,
    );
  }
  return name;
}
