/**
 * Parses the HCL of Vault Agent configurations into attributes and blocks:
 *
 *   vault { address = "https://coffer.example.com" }     a block
 *   method "kubernetes" { ... }                          a block with a label
 *   config = { role = "app" }                            an object: read as a block, as Vault's HCL 1 does
 *   command = ["kill", "-HUP", "1"]                      a list
 *   contents = <<EOT ... EOT                             a heredoc
 *
 * An attribute set twice in one body is an error, as in HCL.
 */
import { type HclToken, tokenizeHcl } from "./hcl-lexer.ts";
import { type HclBlock, type HclBody, HclSyntaxError, type HclValue } from "./hcl-syntax.ts";

export function parseHcl(text: string): HclBody {
  const tokens = tokenizeHcl(text);
  let position = 0;
  const peek = (): HclToken => tokens[position] as HclToken;
  const next = (): HclToken => tokens[position++] as HclToken;
  const fail = (token: HclToken, reason: string): never => {
    throw new HclSyntaxError(token, reason);
  };
  const describe = (token: HclToken) =>
    token.kind === "eof"
      ? "the end of the file"
      : token.kind === "newline"
        ? "a new line"
        : JSON.stringify(token.value);
  const skipNewlines = () => {
    while (peek().kind === "newline") next();
  };
  const isPunctuation = (token: HclToken, value: string) =>
    token.kind === "punctuation" && token.value === value;

  function body(closing: boolean): HclBody {
    const result: HclBody = { attributes: [], blocks: [] };
    for (;;) {
      skipNewlines();
      const token = next();
      if (token.kind === "eof") {
        if (closing) fail(token, 'expected "}" before the end of the file');
        return result;
      }
      if (isPunctuation(token, "}")) {
        if (!closing) fail(token, 'unexpected "}"');
        return result;
      }
      if (token.kind !== "identifier" && token.kind !== "string") {
        fail(token, `expected an attribute or a block name, found ${describe(token)}`);
      }
      const name = token.value;
      if (isPunctuation(peek(), "=")) {
        next();
        const valueToken = peek();
        if (isPunctuation(valueToken, "{")) {
          next();
          result.blocks.push({ type: name, labels: [], body: body(true), at: token });
        } else {
          if (result.attributes.some((attribute) => attribute.name === name)) {
            fail(token, `the attribute "${name}" is set twice`);
          }
          result.attributes.push({ name, value: value(), at: token });
        }
      } else {
        const labels: string[] = [];
        while (peek().kind === "string" || peek().kind === "identifier") labels.push(next().value);
        const open = next();
        if (!isPunctuation(open, "{")) {
          fail(open, `expected "=" or a block's "{" after ${JSON.stringify(name)}, found ${describe(open)}`);
        }
        const block: HclBlock = { type: name, labels, body: body(true), at: token };
        result.blocks.push(block);
      }
      const after = peek();
      if (isPunctuation(after, ",")) next();
      else if (after.kind !== "newline" && after.kind !== "eof" && !isPunctuation(after, "}")) {
        fail(after, `expected a new line after ${JSON.stringify(name)}, found ${describe(after)}`);
      }
    }
  }

  function value(): HclValue {
    const token = next();
    switch (token.kind) {
      case "string":
        return token.value;
      case "number":
        // As Vault's HCL 1 reads them: a leading 0 makes an integer octal (mode = 0640).
        return /^-?0[0-7]+$/.test(token.value) ? Number.parseInt(token.value, 8) : Number(token.value);
      case "identifier":
        if (token.value === "true") return true;
        if (token.value === "false") return false;
        if (token.value === "null") return null;
        return fail(token, `unknown value ${token.value}: quote strings, e.g. "${token.value}"`);
      case "punctuation":
        if (token.value === "[") return list();
        if (token.value === "{") return objectOf(body(true));
        return fail(token, `expected a value, found ${describe(token)}`);
      default:
        return fail(token, `expected a value, found ${describe(token)}`);
    }
  }

  function list(): HclValue[] {
    const items: HclValue[] = [];
    for (;;) {
      skipNewlines();
      if (isPunctuation(peek(), "]")) {
        next();
        return items;
      }
      items.push(value());
      skipNewlines();
      const separator = next();
      if (isPunctuation(separator, "]")) return items;
      if (!isPunctuation(separator, ","))
        fail(separator, `expected "," or "]" in a list, found ${describe(separator)}`);
    }
  }

  return body(false);
}

/** An object inside a list is a plain value. */
function objectOf(body: HclBody): HclValue {
  const object: { [key: string]: HclValue } = {};
  for (const attribute of body.attributes) object[attribute.name] = attribute.value;
  for (const block of body.blocks) object[block.type] = objectOf(block.body);
  return object;
}
