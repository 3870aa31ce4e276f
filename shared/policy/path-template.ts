/**
 * Templated policy paths, in Vault's identity template syntax, so one policy serves every
 * namespace and service account:
 *
 *   path "secret/data/{{identity.entity.aliases.auth_kubernetes_1a2b3c4d.metadata.service_account_namespace}}/*"
 *
 * Supported: identity.entity.id, identity.entity.aliases.<mount accessor>.name and
 * identity.entity.aliases.<mount accessor>.metadata.<key>.
 *
 * As in Vault, a rule whose template cannot be filled for the caller (no such alias or
 * key) is left out of that caller's ACL. A value that could widen the rule (a slash, a
 * wildcard, a dot segment, an empty string) also leaves the rule out: templating must
 * never grant more than the literal path it stands for.
 */
import { invalidRequest } from "../errors.ts";
import type { PolicyIdentity } from "./acl.ts";

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const ALIAS_NAME = /^identity\.entity\.aliases\.([A-Za-z0-9_-]+)\.name$/;
const ALIAS_METADATA = /^identity\.entity\.aliases\.([A-Za-z0-9_-]+)\.metadata\.([A-Za-z0-9_.-]+)$/;
const ENTITY_ID = "identity.entity.id";

/** A value safe to put in one path segment. */
const SAFE_VALUE = /^(?!\.{1,2}$)[A-Za-z0-9._@:=-]{1,253}$/;

export function hasTemplates(path: string): boolean {
  return path.includes("{{");
}

function isSupported(expression: string): boolean {
  return expression === ENTITY_ID || ALIAS_NAME.test(expression) || ALIAS_METADATA.test(expression);
}

/** Throws ERR_INVALID_REQUEST unless every template in `path` is one Coffer can fill. */
export function validateTemplates(path: string, where: string): void {
  const withoutTemplates = path.replace(TEMPLATE, (_whole, expression: string) => {
    if (!isSupported(expression)) {
      throw invalidRequest(
        `${where}: unsupported template "{{${expression}}}"; use identity.entity.id, ` +
          "identity.entity.aliases.<mount accessor>.name or identity.entity.aliases.<mount accessor>.metadata.<key>",
      );
    }
    return "";
  });
  if (withoutTemplates.includes("{{") || withoutTemplates.includes("}}")) {
    throw invalidRequest(`${where}: unbalanced template braces`);
  }
}

function valueFor(expression: string, identity: PolicyIdentity | undefined): string | undefined {
  if (!identity) return undefined;
  if (expression === ENTITY_ID) return identity.entityId || undefined;
  const name = ALIAS_NAME.exec(expression);
  if (name) return identity.aliasNames?.[name[1] as string];
  const metadata = ALIAS_METADATA.exec(expression);
  if (metadata) return identity.aliases[metadata[1] as string]?.[metadata[2] as string];
  return undefined;
}

/** The path with its templates filled for `identity`, or undefined when the rule must be left out. */
export function fillTemplates(path: string, identity: PolicyIdentity | undefined): string | undefined {
  let complete = true;
  const filled = path.replace(TEMPLATE, (_whole, expression: string) => {
    const value = valueFor(expression, identity);
    if (value === undefined || !SAFE_VALUE.test(value)) {
      complete = false;
      return "";
    }
    return value;
  });
  return complete ? filled : undefined;
}
