/**
 * The parser of Go's text/template syntax, over the lexer's tokens: actions, pipelines
 * (`a | b c`), variables (`$x := ...`, `$x = ...`), `if`/`else if`/`else`, `range`
 * (with `break` and `continue`), `with`/`else with`, and parenthesized pipelines. As in
 * Go, an unknown function or an undeclared variable is an error here, before anything is
 * rendered. `define`, `template` and `block` are refused: Vault Agent templates are one
 * file each.
 */
import { type Delimiters, type Position, type Token, tokenize } from "./lexer.ts";
import type { Command, Node, Operand, Pipeline } from "./syntax-tree.ts";
import { TemplateError } from "./template-error.ts";

export interface ParseOptions {
  /** The template's name in error messages (a file name, or "contents"). */
  name: string;
  /** Functions a template may call. */
  functions: ReadonlySet<string>;
  /** Functions of consul-template this engine does not have, to say so instead of "not defined". */
  unsupported?: ReadonlySet<string>;
  delimiters?: Delimiters;
}

type Control = "if" | "with" | "range";

export function parseGoTemplate(text: string, options: ParseOptions): Node[] {
  const tokens = tokenize(text, options.name, options.delimiters);
  let position = 0;
  const scopes: string[][] = [["$"]];
  let rangeDepth = 0;

  const peek = (): Token => tokens[position] as Token;
  const next = (): Token => tokens[position++] as Token;
  const fail = (at: Position, message: string): never => {
    throw new TemplateError(options.name, at, message);
  };
  const expectClose = (context: string) => {
    const token = next();
    if (token.kind !== "close") fail(token, `unexpected ${describe(token)} in ${context}`);
  };

  /** Parses nodes until {{end}}, {{else}} or the end of the text; returns what stopped it. */
  function list(): { nodes: Node[]; stop: Token } {
    const nodes: Node[] = [];
    for (;;) {
      const token = next();
      if (token.kind === "eof") return { nodes, stop: token };
      if (token.kind === "text") {
        nodes.push({ kind: "text", text: token.value });
        continue;
      }
      // token is "open": the lexer emits nothing else outside actions.
      const first = peek();
      if (first.kind === "keyword") {
        switch (first.value) {
          case "end":
          case "else":
            next();
            return { nodes, stop: first };
          case "if":
          case "with":
          case "range":
            next();
            nodes.push(control(first.value, first));
            continue;
          case "break":
          case "continue": {
            next();
            if (rangeDepth === 0) fail(first, `{{${first.value}}} outside {{range}}`);
            expectClose(first.value);
            nodes.push({ kind: first.value, at: first });
            continue;
          }
          default:
            fail(
              first,
              `{{${first.value}}} is not supported: a template is one file, without named templates`,
            );
        }
      }
      const pipe = pipeline("command", true);
      expectClose("command");
      nodes.push({ kind: "action", pipe, at: token });
    }
  }

  function control(kind: Control, at: Token): Node {
    scopes.push([]);
    const pipe = pipeline(kind, true);
    expectClose(kind);
    if (kind === "range") rangeDepth++;
    const body = list();
    if (kind === "range") rangeDepth--;
    let otherwise: Node[] | undefined;
    if (body.stop.kind === "eof") fail(at, `unexpected EOF: {{${kind}}} has no {{end}}`);
    if (body.stop.value === "else") {
      const chained = peek();
      if (chained.kind === "keyword" && chained.value === kind && kind !== "range") {
        // {{else if ...}} / {{else with ...}}: a nested control that consumes the {{end}}.
        next();
        otherwise = [control(kind, chained)];
      } else {
        expectClose("else");
        const rest = list();
        if (rest.stop.kind === "eof" || rest.stop.value !== "end") {
          fail(rest.stop, `expected {{end}} for the {{${kind}}} at line ${at.line}`);
        }
        expectClose("end");
        otherwise = rest.nodes;
      }
    } else {
      expectClose("end");
    }
    scopes.pop();
    return otherwise === undefined
      ? { kind, pipe, body: body.nodes, at }
      : { kind, pipe, body: body.nodes, otherwise, at };
  }

  function declared(name: string): boolean {
    return scopes.some((scope) => scope.includes(name));
  }

  function pipeline(context: string, mayDeclare: boolean): Pipeline {
    const at = peek();
    const variables: string[] = [];
    let assigns = false;
    if (mayDeclare && at.kind === "variable") {
      // `$x :=`, `$x =`, or (range) `$i, $e :=`.
      const save = position;
      const names = [next().value];
      if (peek().kind === "comma" && context === "range") {
        next();
        const second = next();
        if (second.kind !== "variable") fail(second, "range can only initialize variables");
        names.push(second.value);
      }
      const operator = peek();
      if (operator.kind === "declare" || operator.kind === "assign") {
        next();
        assigns = operator.kind === "assign";
        for (const name of names) {
          if (assigns && !declared(name)) fail(at, `undefined variable "${name}"`);
          if (!assigns) (scopes.at(-1) as string[]).push(name);
        }
        variables.push(...names);
      } else {
        position = save;
      }
    }
    const commands: Command[] = [];
    for (;;) {
      const token = peek();
      if (token.kind === "close" || token.kind === "rparen" || token.kind === "eof") break;
      commands.push(command());
      if (peek().kind === "pipe") {
        next();
        const after = peek();
        if (after.kind === "close" || after.kind === "rparen") fail(after, "missing command after |");
      }
    }
    if (commands.length === 0) fail(at, `missing value for ${context}`);
    for (const [index, stage] of commands.entries()) {
      const head = stage.operands[0] as Operand;
      if (index > 0 && !["function", "field", "variable", "chain"].includes(head.kind)) {
        fail(stage.at, `non executable command in pipeline stage ${index + 1}`);
      }
    }
    return { variables, assigns, commands, at };
  }

  function command(): Command {
    const at = peek();
    const operands: Operand[] = [];
    for (;;) {
      const token = peek();
      if (["close", "rparen", "pipe", "eof"].includes(token.kind)) break;
      if (operands.length > 0 && !token.spaced && token.kind !== "lparen") {
        fail(token, `unexpected ${describe(token)} in operand`);
      }
      operands.push(operand());
    }
    return { operands, at };
  }

  function fieldChain(): string[] {
    const names: string[] = [];
    while (peek().kind === "field" && !peek().spaced) names.push(next().value);
    return names;
  }

  function operand(): Operand {
    const token = next();
    switch (token.kind) {
      case "field":
        return { kind: "field", names: [token.value, ...fieldChain()], at: token };
      case "dot":
        return { kind: "field", names: [], at: token };
      case "variable":
        if (!declared(token.value)) fail(token, `undefined variable "${token.value}"`);
        return { kind: "variable", name: token.value, names: fieldChain(), at: token };
      case "identifier":
        if (options.unsupported?.has(token.value)) {
          fail(token, `function "${token.value}" is a consul-template function Coffer does not support`);
        }
        if (!options.functions.has(token.value)) fail(token, `function "${token.value}" not defined`);
        return { kind: "function", name: token.value, at: token };
      case "string":
        return { kind: "string", value: token.value, at: token };
      case "number":
        return { kind: "number", value: numberValue(token, fail), text: token.value, at: token };
      case "bool":
        return { kind: "bool", value: token.value === "true", at: token };
      case "nil":
        return { kind: "nil", at: token };
      case "lparen": {
        const pipe = pipeline("parenthesized pipeline", false);
        const close = next();
        if (close.kind !== "rparen") fail(close, "unclosed left paren");
        return { kind: "chain", pipe, names: fieldChain(), at: token };
      }
      default:
        return fail(token, `unexpected ${describe(token)} in operand`);
    }
  }

  const { nodes, stop } = list();
  if (stop.kind !== "eof") fail(stop, `unexpected {{${stop.value}}}`);
  return nodes;
}

function describe(token: Token): string {
  switch (token.kind) {
    case "close":
      return `"${token.value}"`;
    case "eof":
      return "EOF";
    case "string":
      return "quoted string";
    default:
      return `<${token.value}>`;
  }
}

function numberValue(token: Token, fail: (at: Position, message: string) => never): number {
  const text = token.value.replace(/_/g, "");
  // Go's legacy octal: 0755.
  const value = /^[+-]?0[0-7]+$/.test(text)
    ? Number.parseInt(text, 8)
    : text.startsWith("-")
      ? -Number(text.slice(1))
      : Number(text.replace(/^\+/, ""));
  if (!Number.isFinite(value)) fail(token, `bad number syntax: ${JSON.stringify(token.value)}`);
  return value;
}
