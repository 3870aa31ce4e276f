/**
 * Vault policy documents, in the two forms Vault accepts: HCL as `vault policy write`
 * sends it, and JSON. Only what ACL policies use is understood:
 *
 *   # comments: #, // and /* ... *\/
 *   path "secret/data/app/*" {
 *     capabilities = ["read", "list"]
 *     policy = "read"            # the older shorthand, still accepted
 *   }
 *
 *   {"path": {"secret/data/app/*": {"capabilities": ["read", "list"]}}}
 *
 * Anything else (parameter constraints, wrapping TTLs, control groups, MFA) is refused
 * with a 400 that names it, rather than silently ignored: a constraint the broker does not
 * enforce must not look enforced.
 */
import { invalidRequest } from "../errors.ts";
import type { Capability } from "./acl.ts";
import { isJsonEntries, type JsonTree, parseJsonEntries } from "./json-entries.ts";
import { validateTemplates } from "./path-template.ts";

/** Largest policy text accepted, in UTF-8 bytes. */
export const MAX_POLICY_BYTES = 64 * 1024;
/** Longest path pattern accepted, in UTF-8 bytes. */
const MAX_PATTERN_BYTES = 1024;

export interface PathRule {
  /** As written, without a leading slash; may hold identity templates. */
  path: string;
  /** ["deny"] alone when the rule denies. */
  capabilities: Capability[];
}

const CAPABILITIES = new Set<string>(["create", "read", "update", "patch", "delete", "list", "sudo", "deny"]);

/** Vault's older `policy = "..."` shorthand, as capabilities. */
const SHORTHAND: Record<string, Capability[]> = {
  deny: ["deny"],
  read: ["read", "list"],
  write: ["create", "read", "update", "delete", "list"],
  sudo: ["create", "read", "update", "delete", "list", "sudo"],
};

const UNSUPPORTED_RULE_FIELDS = new Set([
  "allowed_parameters",
  "denied_parameters",
  "required_parameters",
  "min_wrapping_ttl",
  "max_wrapping_ttl",
  "control_group",
  "mfa_methods",
  "subscribe_event_types",
]);

const utf8 = new TextEncoder();

function ruleOf(path: string, fields: { capabilities?: unknown; policy?: unknown }, where: string): PathRule {
  const pattern = path.replace(/^\/+/, "");
  if (pattern === "") throw invalidRequest(`${where}: the path must not be empty`);
  if (utf8.encode(pattern).length > MAX_PATTERN_BYTES) {
    throw invalidRequest(`${where}: the path exceeds ${MAX_PATTERN_BYTES} bytes`);
  }
  if (/\p{Cc}/u.test(pattern)) throw invalidRequest(`${where}: the path contains control characters`);
  if (pattern.includes("+*"))
    throw invalidRequest(`${where}: invalid use of wildcards ("+*" is not allowed)`);
  validateTemplates(pattern, where);

  const granted = new Set<Capability>();
  if (fields.policy !== undefined) {
    if (typeof fields.policy !== "string" || !SHORTHAND[fields.policy]) {
      throw invalidRequest(`${where}: "policy" must be one of deny, read, write, sudo`);
    }
    for (const capability of SHORTHAND[fields.policy] ?? []) granted.add(capability);
  }
  if (fields.capabilities !== undefined) {
    if (!Array.isArray(fields.capabilities))
      throw invalidRequest(`${where}: "capabilities" must be a list of strings`);
    for (const capability of fields.capabilities) {
      if (typeof capability !== "string" || !CAPABILITIES.has(capability)) {
        throw invalidRequest(
          `${where}: unknown capability ${JSON.stringify(capability)}; valid: ${[...CAPABILITIES].join(", ")}`,
        );
      }
      granted.add(capability as Capability);
    }
  }
  if (fields.policy === undefined && fields.capabilities === undefined) {
    throw invalidRequest(`${where}: set "capabilities"`);
  }
  return { path: pattern, capabilities: granted.has("deny") ? ["deny"] : [...granted] };
}

function checkRuleFields(fields: string[], where: string): void {
  for (const field of fields) {
    if (UNSUPPORTED_RULE_FIELDS.has(field)) {
      throw invalidRequest(`${where}: "${field}" is not supported; remove it (Coffer does not enforce it)`);
    }
    if (field !== "capabilities" && field !== "policy")
      throw invalidRequest(`${where}: unknown field "${field}"`);
  }
}

// ---- JSON ----------------------------------------------------------------------------

/** More than a policy document ever nests (object, path map, rule, list; or a list of maps). */
const MAX_JSON_DEPTH = 8;

/**
 * Repeated keys are kept, as Vault's parser keeps them: two entries for one path are two
 * rules, merged as two HCL blocks for one path are; a field set twice in a rule is refused,
 * as in HCL.
 */
function parseJsonPolicy(text: string): PathRule[] {
  let document: JsonTree;
  try {
    document = parseJsonEntries(text, MAX_JSON_DEPTH);
  } catch (error) {
    throw invalidRequest(
      error instanceof RangeError
        ? "failed to parse policy: nested too deeply"
        : "failed to parse policy: not valid JSON",
    );
  }
  if (!isJsonEntries(document)) {
    throw invalidRequest('failed to parse policy: expected an object with a "path" key');
  }
  const rules: PathRule[] = [];
  for (const [key, paths] of document.entries) {
    if (key !== "path") throw invalidRequest(`failed to parse policy: unknown key "${key}"`);
    // HCL's JSON form allows a block list as an array of single-key objects.
    for (const group of Array.isArray(paths) ? paths : [paths]) {
      if (!isJsonEntries(group)) {
        throw invalidRequest('failed to parse policy: "path" must map paths to rules');
      }
      for (const [path, body] of group.entries) {
        const where = `path ${JSON.stringify(path)}`;
        if (!isJsonEntries(body)) throw invalidRequest(`${where}: expected an object`);
        const fields: Record<string, unknown> = {};
        for (const [field, value] of body.entries) {
          checkRuleFields([field], where);
          if (field in fields) throw invalidRequest(`"${field}" is set twice in ${where}`);
          fields[field] = value;
        }
        rules.push(ruleOf(path, fields, where));
      }
    }
  }
  return rules;
}

// ---- HCL -----------------------------------------------------------------------------

type TokenKind = "string" | "ident" | "{" | "}" | "[" | "]" | "=" | ",";

interface Token {
  kind: TokenKind;
  value: string;
  line: number;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (message: string) => invalidRequest(`failed to parse policy at line ${line}: ${message}`);
  while (i < text.length) {
    const char = text[i] as string;
    if (char === "\n") {
      line++;
      i++;
    } else if (/\s/.test(char)) {
      i++;
    } else if (char === "#" || text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) throw fail("unterminated /* comment");
      for (let j = i; j < end; j++) if (text[j] === "\n") line++;
      i = end + 2;
    } else if (char === '"') {
      let value = "";
      i++;
      for (;;) {
        const next = text[i];
        if (next === undefined || next === "\n") throw fail("unterminated string");
        if (next === '"') break;
        if (next === "\\") {
          const escaped = ESCAPES[text[i + 1] ?? ""];
          if (escaped === undefined) throw fail("unsupported escape in string");
          value += escaped;
          i += 2;
        } else {
          value += next;
          i++;
        }
      }
      i++;
      tokens.push({ kind: "string", value, line });
    } else if ("{}[]=,".includes(char)) {
      tokens.push({ kind: char as TokenKind, value: char, line });
      i++;
    } else if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i, i + 256)) as RegExpExecArray;
      tokens.push({ kind: "ident", value: match[0], line });
      i += match[0].length;
    } else {
      throw fail(`unexpected character ${JSON.stringify(char)}`);
    }
  }
  return tokens;
}

function parseHclPolicy(text: string): PathRule[] {
  const tokens = tokenize(text);
  let position = 0;
  const lastLine = tokens.at(-1)?.line ?? 1;
  const fail = (message: string, token?: Token) =>
    invalidRequest(`failed to parse policy at line ${token?.line ?? lastLine}: ${message}`);
  const next = (): Token | undefined => tokens[position++];
  const expect = (kind: TokenKind, what: string): Token => {
    const token = next();
    if (token?.kind !== kind) throw fail(`expected ${what}`, token);
    return token;
  };

  function stringList(): string[] {
    const values: string[] = [];
    for (;;) {
      const token = next();
      if (token?.kind === "]") return values;
      if (token?.kind !== "string") throw fail("expected a quoted string or ]", token);
      values.push(token.value);
      const separator = next();
      if (separator?.kind === "]") return values;
      if (separator?.kind !== ",") throw fail('expected "," or ]', separator);
    }
  }

  const rules: PathRule[] = [];
  while (position < tokens.length) {
    const keyword = next() as Token;
    if (keyword.kind !== "ident" || keyword.value !== "path") {
      throw fail(
        `unexpected ${JSON.stringify(keyword.value)}: a policy is a list of path "..." { ... } blocks`,
        keyword,
      );
    }
    const path = expect("string", "a quoted path after path").value;
    const where = `path ${JSON.stringify(path)}`;
    expect("{", `{ after ${where}`);
    const fields: Record<string, unknown> = {};
    for (;;) {
      const token = next();
      if (token?.kind === "}") break;
      if (token?.kind !== "ident") throw fail(`expected an attribute or } in ${where}`, token);
      checkRuleFields([token.value], where);
      if (token.value in fields) throw fail(`"${token.value}" is set twice in ${where}`, token);
      expect("=", `= after ${token.value}`);
      const value = next();
      if (value?.kind === "[") fields[token.value] = stringList();
      else if (value?.kind === "string") fields[token.value] = value.value;
      else throw fail(`expected a value for ${token.value}`, value);
      if (tokens[position]?.kind === ",") position++;
    }
    rules.push(ruleOf(path, fields, where));
  }
  return rules;
}

/** The path rules of a policy text, HCL or JSON. Throws ERR_INVALID_REQUEST with the reason. */
export function parsePolicy(text: string): PathRule[] {
  if (utf8.encode(text).length > MAX_POLICY_BYTES) {
    throw invalidRequest(`policy exceeds the limit of ${MAX_POLICY_BYTES} bytes`);
  }
  return text.trimStart().startsWith("{") ? parseJsonPolicy(text) : parseHclPolicy(text);
}
