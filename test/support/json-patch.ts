/**
 * An RFC 6902 JSON Patch applier for tests, written from the RFC and independent of the
 * injector's own patch builder, so a patch is checked by code that did not produce it.
 * Strict: a path that does not exist where the RFC requires one, an index out of range or
 * a failed "test" throws, as the API server's applier does.
 */

export type Operation =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

export class PatchError extends Error {
  override readonly name = "PatchError";
}

type Container = Record<string, unknown> | unknown[];

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`"${pointer}" is not a JSON pointer`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === "object";
}

function arrayIndex(array: unknown[], token: string, forAdd: boolean, pointer: string): number {
  if (forAdd && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`${pointer}: "${token}" is not an array index`);
  const index = Number(token);
  if (index > array.length || (!forAdd && index === array.length)) {
    throw new PatchError(`${pointer}: index ${index} is out of range (length ${array.length})`);
  }
  return index;
}

function resolveParent(document: unknown, pointer: string): { parent: Container; token: string } {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError("the root cannot be the target here");
  let node: unknown = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, token, false, pointer)];
    else if (isContainer(node) && Object.hasOwn(node, token)) node = (node as Record<string, unknown>)[token];
    else throw new PatchError(`${pointer}: "${token}" does not exist`);
  }
  if (!isContainer(node)) throw new PatchError(`${pointer}: the parent is not an object or array`);
  return { parent: node, token: tokens[tokens.length - 1] as string };
}

function get(document: unknown, pointer: string): unknown {
  const { parent, token } = resolveParent(document, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, false, pointer)];
  if (!Object.hasOwn(parent, token)) throw new PatchError(`${pointer} does not exist`);
  return parent[token];
}

function add(document: unknown, pointer: string, value: unknown): void {
  const { parent, token } = resolveParent(document, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true, pointer), 0, value);
  else parent[token] = value;
}

function remove(document: unknown, pointer: string): unknown {
  const { parent, token } = resolveParent(document, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, token, false, pointer), 1)[0];
  if (!Object.hasOwn(parent, token)) throw new PatchError(`${pointer} does not exist`);
  const value = parent[token];
  delete parent[token];
  return value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isContainer(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** Applies the patch to a copy of the document; the document itself is left as it was. */
export function applyJsonPatch<T>(document: T, operations: readonly Operation[]): T {
  const root = { document: structuredClone(document) as unknown };
  const at = (pointer: string) => `/document${pointer}`;
  for (const operation of operations) {
    switch (operation.op) {
      case "add":
        add(root, at(operation.path), structuredClone(operation.value));
        break;
      case "remove":
        remove(root, at(operation.path));
        break;
      case "replace":
        get(root, at(operation.path));
        remove(root, at(operation.path));
        add(root, at(operation.path), structuredClone(operation.value));
        break;
      case "move": {
        if (operation.path.startsWith(`${operation.from}/`)) throw new PatchError("cannot move into a child");
        add(root, at(operation.path), remove(root, at(operation.from)));
        break;
      }
      case "copy":
        add(root, at(operation.path), structuredClone(get(root, at(operation.from))));
        break;
      case "test":
        if (!deepEqual(get(root, at(operation.path)), operation.value)) {
          throw new PatchError(`test failed at ${operation.path}`);
        }
        break;
      default:
        throw new PatchError(`unknown operation ${JSON.stringify(operation)}`);
    }
  }
  return root.document as T;
}
