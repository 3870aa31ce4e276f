/**
 * The JSON form of an HCL configuration (what Vault Agent reads from a `.json` file):
 * an object is a block, an array of objects is one block per item, anything else an
 * attribute. A syntax error names its line and column.
 */
import { type HclBody, HclSyntaxError, type HclValue } from "./hcl-syntax.ts";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function bodyOf(object: { [key: string]: Json }): HclBody {
  const body: HclBody = { attributes: [], blocks: [] };
  for (const [name, value] of Object.entries(object)) {
    if (isObject(value)) body.blocks.push({ type: name, labels: [], body: bodyOf(value) });
    else if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
      for (const item of value) body.blocks.push({ type: name, labels: [], body: bodyOf(item) });
    } else body.attributes.push({ name, value: value as HclValue });
  }
  return body;
}

/** Where JSON.parse stopped, from its message ("at position 12", or "line 2 column 5"). */
function placeOf(text: string, message: string): { line: number; column: number } {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const offset = Number(/position (\d+)/.exec(message)?.[1] ?? text.length);
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1) as string).length + 1 };
}

export function parseJsonConfig(text: string): HclBody {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (error) {
    const message = (error as Error).message;
    throw new HclSyntaxError(
      placeOf(text, message),
      `invalid JSON: ${message.replace(/^JSON\.parse: /, "")}`,
    );
  }
  if (!isObject(parsed)) throw new HclSyntaxError({ line: 1, column: 1 }, "expected a JSON object");
  return bodyOf(parsed);
}
