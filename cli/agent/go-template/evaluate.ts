/**
 * Executes a parsed Go-syntax template as text/template does: dot starts as nil, `$` is
 * the starting data, `with` and `range` move dot, variables live until the end of the
 * block that declared them, `and`/`or` stop at the first deciding operand, and maps range
 * in key order.
 *
 * A key missing from a map is handled by the template's policy:
 *   error    any use of it is an error (Vault Agent's error_on_missing_key = true);
 *   print    it prints as "<no value>" (Go's default, Vault Agent's default);
 *   refuse   it may be tested (`if`, `with`), but writing it out is an error: Coffer's
 *            default, so a typo never puts "<no value>" into a configuration file.
 */
import { callFunction, FunctionError, LAZY_FUNCTIONS, type TemplateHost } from "./functions.ts";
import { GoStruct, isMap, isNoValue, isTrue, NO_VALUE, NoValue, printValue, typeName } from "./go-values.ts";
import type { Position } from "./lexer.ts";
import type { Command, Node, Operand, Pipeline } from "./syntax-tree.ts";
import { TemplateError } from "./template-error.ts";

export type MissingKeyPolicy = "error" | "print" | "refuse";

export interface ExecuteOptions {
  name: string;
  missingKey: MissingKeyPolicy;
  host: TemplateHost;
}

class LoopControl {
  constructor(readonly kind: "break" | "continue") {}
}

/** An error inside an operand, before it is given the place and expression it happened at. */
class ExecutionFailure extends Error {}

function operandText(operand: Operand): string {
  const chain = (names: string[]) => names.map((name) => `.${name}`).join("");
  switch (operand.kind) {
    case "field":
      return operand.names.length === 0 ? "." : chain(operand.names);
    case "variable":
      return operand.name + chain(operand.names);
    case "chain":
      return `(${pipelineText(operand.pipe)})${chain(operand.names)}`;
    case "function":
      return operand.name;
    case "string":
      return JSON.stringify(operand.value);
    case "number":
      return operand.text;
    case "bool":
      return String(operand.value);
    case "nil":
      return "nil";
  }
}

function pipelineText(pipe: Pipeline): string {
  return pipe.commands.map((command) => command.operands.map(operandText).join(" ")).join(" | ");
}

export function executeGoTemplate(nodes: readonly Node[], options: ExecuteOptions): string {
  const { name, missingKey, host } = options;
  const variables: { name: string; value: unknown }[] = [{ name: "$", value: NO_VALUE }];
  let out = "";

  const fail = (at: Position, expression: string, message: string): never => {
    throw new TemplateError(name, at, `executing "${name}" at <${expression}>: ${message}`);
  };

  function field(receiver: unknown, key: string): unknown {
    if (receiver instanceof GoStruct) {
      if (!Object.hasOwn(receiver.fields, key)) {
        throw new ExecutionFailure(`can't evaluate field ${key} in type ${receiver.typeName}`);
      }
      return receiver.fields[key];
    }
    if (isMap(receiver)) {
      if (Object.hasOwn(receiver, key)) return receiver[key];
      if (missingKey === "error") throw new ExecutionFailure(`map has no entry for key "${key}"`);
      return new NoValue(key);
    }
    if (isNoValue(receiver) || receiver === null || receiver === undefined) {
      throw new ExecutionFailure(`nil pointer evaluating interface {}.${key}`);
    }
    throw new ExecutionFailure(`can't evaluate field ${key} in type ${typeName(receiver)}`);
  }

  const fields = (receiver: unknown, names: readonly string[]) => names.reduce(field, receiver);

  function variable(variableName: string): unknown {
    for (let i = variables.length - 1; i >= 0; i--) {
      const entry = variables[i] as { name: string; value: unknown };
      if (entry.name === variableName) return entry.value;
    }
    // The parser refuses undeclared variables; this is unreachable.
    throw new ExecutionFailure(`undefined variable: ${variableName}`);
  }

  function argument(operand: Operand, dot: unknown): unknown {
    switch (operand.kind) {
      case "field":
        return fields(dot, operand.names);
      case "variable":
        return fields(variable(operand.name), operand.names);
      case "chain":
        return fields(pipeline(operand.pipe, dot), operand.names);
      case "function":
        return call(operand.name, [], dot, undefined);
      case "string":
      case "number":
      case "bool":
        return operand.value;
      case "nil":
        return null;
    }
  }

  function call(
    functionName: string,
    operands: readonly Operand[],
    dot: unknown,
    final: { value: unknown } | undefined,
  ) {
    if (LAZY_FUNCTIONS.has(functionName)) {
      const thunks = operands.map((operand) => () => argument(operand, dot));
      if (final) thunks.push(() => final.value);
      if (thunks.length === 0)
        throw new ExecutionFailure(`wrong number of args for ${functionName}: want at least 1 got 0`);
      let value: unknown;
      for (const thunk of thunks) {
        value = thunk();
        // and: the first false operand; or: the first true one; else the last.
        if (isTrue(value) === (functionName === "or")) return value;
      }
      return value;
    }
    const args = operands.map((operand) => argument(operand, dot));
    if (final) args.push(final.value);
    return callFunction(functionName, args, host);
  }

  function command(stage: Command, dot: unknown, final: { value: unknown } | undefined): unknown {
    const [head, ...rest] = stage.operands as [Operand, ...Operand[]];
    try {
      if (head.kind === "function") return call(head.name, rest, dot, final);
      if (rest.length > 0 || final) {
        throw new ExecutionFailure(`can't give argument to non-function ${operandText(head)}`);
      }
      if (head.kind === "nil") throw new ExecutionFailure("nil is not a command");
      return argument(head, dot);
    } catch (error) {
      if (error instanceof ExecutionFailure || error instanceof FunctionError) {
        fail(head.at, operandText(head), error.message);
      }
      throw error;
    }
  }

  /** The pipeline's value; a plain declaration or assignment is made here. */
  function pipeline(pipe: Pipeline, dot: unknown, declare = true): unknown {
    let final: { value: unknown } | undefined;
    for (const stage of pipe.commands) final = { value: command(stage, dot, final) };
    const value = (final as { value: unknown }).value;
    if (declare) for (const variableName of pipe.variables) setVariable(pipe, variableName, value);
    return value;
  }

  function setVariable(pipe: Pipeline, variableName: string, value: unknown): void {
    if (!pipe.assigns) {
      variables.push({ name: variableName, value });
      return;
    }
    for (let i = variables.length - 1; i >= 0; i--) {
      const entry = variables[i] as { name: string; value: unknown };
      if (entry.name === variableName) {
        entry.value = value;
        return;
      }
    }
  }

  function print(value: unknown, node: Extract<Node, { kind: "action" }>): void {
    if (isNoValue(value) && missingKey === "refuse") {
      const key = value.key === undefined ? "" : `map has no entry for key "${value.key}": `;
      fail(
        node.pipe.at,
        pipelineText(node.pipe),
        `${key}refusing to write "<no value>" (set error_on_missing_key = false to write it as Vault Agent does)`,
      );
    }
    out += printValue(value);
  }

  function block(body: readonly Node[] | undefined, dot: unknown): void {
    const mark = variables.length;
    try {
      for (const node of body ?? []) walk(node, dot);
    } finally {
      variables.length = mark;
    }
  }

  function range(node: Extract<Node, { kind: "range" }>, dot: unknown): void {
    const mark = variables.length;
    try {
      const collection = pipeline(node.pipe, dot, false);
      const items = rangeItems(collection, node);
      if (items.length === 0) {
        block(node.otherwise, dot);
        return;
      }
      const [first, second] = node.pipe.variables;
      for (const [key, item] of items) {
        const inner = variables.length;
        if (second !== undefined) {
          variables.push({ name: first as string, value: key }, { name: second, value: item });
        } else if (first !== undefined) {
          variables.push({ name: first, value: item });
        }
        try {
          block(node.body, item);
        } catch (error) {
          if (!(error instanceof LoopControl)) throw error;
          if (error.kind === "break") break;
        } finally {
          variables.length = inner;
        }
      }
    } finally {
      variables.length = mark;
    }
  }

  function rangeItems(collection: unknown, node: Extract<Node, { kind: "range" }>): [unknown, unknown][] {
    if (Array.isArray(collection)) return collection.map((item, index) => [index, item]);
    if (isMap(collection)) {
      return Object.keys(collection)
        .sort()
        .map((key) => [key, collection[key]]);
    }
    // Go 1.22 ranges over an integer n: 0 to n-1.
    if (typeof collection === "number" && Number.isInteger(collection)) {
      return Array.from({ length: Math.max(0, collection) }, (_, index) => [index, index]);
    }
    if (isNoValue(collection) || collection === null) return [];
    return fail(node.at, pipelineText(node.pipe), `range can't iterate over ${printValue(collection)}`);
  }

  function walk(node: Node, dot: unknown): void {
    switch (node.kind) {
      case "text":
        out += node.text;
        return;
      case "action": {
        const value = pipeline(node.pipe, dot);
        if (node.pipe.variables.length === 0) print(value, node);
        return;
      }
      case "if":
      case "with": {
        const mark = variables.length;
        try {
          const value = pipeline(node.pipe, dot);
          if (isTrue(value)) block(node.body, node.kind === "with" ? value : dot);
          else block(node.otherwise, dot);
        } finally {
          variables.length = mark;
        }
        return;
      }
      case "range":
        range(node, dot);
        return;
      case "break":
      case "continue":
        throw new LoopControl(node.kind);
    }
  }

  for (const node of nodes) walk(node, NO_VALUE);
  return out;
}
