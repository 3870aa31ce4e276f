/**
 * Names of connections and roles, as they appear in paths (config/<name>, roles/<name>)
 * and in generated user names: Vault's generic name shape, bounded.
 */
import { invalidRequest } from "../../errors.ts";

const NAME = /^\w(?:[\w.-]{0,126}\w)?$/;

export function checkName(kind: "connection" | "role", name: string): string {
  if (!NAME.test(name)) {
    throw invalidRequest(
      `invalid ${kind} name "${name}": use letters, digits, "_", "-" and "." (at most 128)`,
    );
  }
  return name;
}
