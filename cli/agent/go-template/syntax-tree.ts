/**
 * The parse tree of a Go-syntax template, as text/template builds it: a list of nodes,
 * where an action holds a pipeline of commands and a command a list of operands.
 */
import type { Position } from "./lexer.ts";

export type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipeline; at: Position }
  | { kind: "if" | "with"; pipe: Pipeline; body: Node[]; otherwise?: Node[]; at: Position }
  | { kind: "range"; pipe: Pipeline; body: Node[]; otherwise?: Node[]; at: Position }
  | { kind: "break" | "continue"; at: Position };

export interface Pipeline {
  /** `$x := ...` declares, `$x = ...` assigns; a range may name two: `$i, $e := ...`. */
  variables: string[];
  assigns: boolean;
  commands: Command[];
  at: Position;
}

export interface Command {
  operands: Operand[];
  at: Position;
}

export type Operand =
  /** `.A.B`: fields of dot; `.` alone has no names. */
  | { kind: "field"; names: string[]; at: Position }
  /** `$x.A.B`; `$` is the template's starting data. */
  | { kind: "variable"; name: string; names: string[]; at: Position }
  /** `(pipeline).A.B` */
  | { kind: "chain"; pipe: Pipeline; names: string[]; at: Position }
  | { kind: "function"; name: string; at: Position }
  | { kind: "string"; value: string; at: Position }
  | { kind: "number"; value: number; text: string; at: Position }
  | { kind: "bool"; value: boolean; at: Position }
  | { kind: "nil"; at: Position };
