/**
 * A Vault Agent (consul-template) template: Go's text/template syntax with the functions
 * of functions.ts. Parsed once when the configuration loads, so syntax errors, unknown
 * functions and undeclared variables are found before the agent starts; executed at every
 * render against the secrets the agent holds.
 */
import type { MissingKeyPolicy } from "./evaluate.ts";
import { executeGoTemplate } from "./evaluate.ts";
import { FUNCTION_NAMES, type TemplateHost, UNSUPPORTED_FUNCTIONS } from "./functions.ts";
import { DEFAULT_DELIMITERS, type Delimiters } from "./lexer.ts";
import { parseGoTemplate } from "./parser.ts";
import type { Node } from "./syntax-tree.ts";

export type { MissingKeyPolicy } from "./evaluate.ts";
export type { TemplateHost } from "./functions.ts";

export interface GoTemplate {
  syntax: "go";
  name: string;
  nodes: Node[];
  missingKey: MissingKeyPolicy;
}

export function parseConsulTemplate(
  text: string,
  options: { name: string; missingKey?: MissingKeyPolicy; delimiters?: Partial<Delimiters> },
): GoTemplate {
  const delimiters = {
    left: options.delimiters?.left || DEFAULT_DELIMITERS.left,
    right: options.delimiters?.right || DEFAULT_DELIMITERS.right,
  };
  const nodes = parseGoTemplate(text, {
    name: options.name,
    functions: FUNCTION_NAMES,
    unsupported: UNSUPPORTED_FUNCTIONS,
    delimiters,
  });
  return { syntax: "go", name: options.name, nodes, missingKey: options.missingKey ?? "refuse" };
}

export function renderConsulTemplate(template: GoTemplate, host: TemplateHost): string {
  return executeGoTemplate(template.nodes, { name: template.name, missingKey: template.missingKey, host });
}
