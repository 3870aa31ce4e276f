/**
 * Turns a secret's fields into a file's content, in the format its entry asks for:
 *
 *   raw       one field's value as it is (the usual shape for a password or a key file)
 *   json      every field as a JSON object
 *   dotenv    KEY="value" lines, for env files and `set -a; . file`
 *   template         the entry's template in Coffer's language (see template.ts)
 *   consul-template  the entry's template in Vault Agent's language (see go-template/)
 */
import { type GoTemplate, renderConsulTemplate, type TemplateHost } from "./go-template/go-template.ts";
import { RenderError, renderTemplate, type SecretLookup, type Template, valueText } from "./template.ts";

export type SecretFormat = "raw" | "json" | "dotenv" | "template" | "consul-template";

export interface RenderSpec {
  format: SecretFormat;
  /** raw: the field to write. */
  field?: string;
  template?: Template;
  goTemplate?: GoTemplate;
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Double-quoted, with the characters a shell or a dotenv parser would interpret escaped. */
function dotenvValue(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\$/g, "\\$")
    .replace(/`/g, "\\`")
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");
  return `"${escaped}"`;
}

/** `host` serves a consul-template template's `secret`, `env` and `file`. */
export function renderSecret(spec: RenderSpec, lookup: SecretLookup, host?: TemplateHost): string {
  switch (spec.format) {
    case "raw": {
      const values = lookup(undefined);
      const field = spec.field as string;
      if (!Object.hasOwn(values, field)) throw new RenderError(`the secret has no field "${field}"`);
      return valueText(values[field]);
    }
    case "json":
      return `${JSON.stringify(lookup(undefined), null, 2)}\n`;
    case "dotenv":
      return Object.entries(lookup(undefined))
        .map(([key, value]) => {
          if (!ENV_NAME.test(key)) {
            throw new RenderError(`the field "${key}" is not a valid environment variable name for dotenv`);
          }
          return `${key}=${dotenvValue(valueText(value))}\n`;
        })
        .join("");
    case "template":
      return renderTemplate(spec.template as Template, lookup);
    case "consul-template":
      if (!host) throw new RenderError("a consul-template template needs the agent's secrets to render");
      return renderConsulTemplate(spec.goTemplate as GoTemplate, host);
  }
}
