/**
 * Builds an RFC 6902 JSON Patch against a pod while keeping a copy of the pod as the
 * patch so far leaves it, so each operation's path (an array index, a missing array or
 * map) is computed against the object it will really apply to.
 */
import type { PatchOperation, Pod } from "./kubernetes.ts";

/** RFC 6901: "~" and "/" inside a key. */
export function pointerSegment(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

export interface PodPatch {
  readonly pod: Pod;
  readonly operations: PatchOperation[];
  /** Appends to the array at `path` (a list of keys), creating it when absent. */
  append(path: readonly string[], value: unknown): void;
  /** Inserts into the array at `path` before `index`, creating it when absent. */
  insert(path: readonly string[], index: number, value: unknown): void;
  /** Removes every element of the array at `path` that matches. */
  removeWhere(path: readonly string[], matches: (element: never) => boolean): void;
  /** Sets a member of the object at `path`, creating the objects on the way. */
  set(path: readonly string[], key: string, value: unknown): void;
  /** Removes a member of the object at `path`, if it is there. */
  unset(path: readonly string[], key: string): void;
}

type Json = Record<string, unknown> | unknown[];

export function createPodPatch(original: Pod): PodPatch {
  const pod = structuredClone(original);
  const operations: PatchOperation[] = [];
  const pointer = (path: readonly string[]) => path.map((key) => `/${pointerSegment(key)}`).join("");
  const at = (path: readonly string[]): unknown =>
    path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], pod);
  const parentOf = (path: readonly string[]) => at(path.slice(0, -1)) as Record<string, unknown>;

  function ensureObject(path: readonly string[]): Record<string, unknown> {
    const existing = at(path);
    if (existing !== undefined && existing !== null) return existing as Record<string, unknown>;
    if (path.length > 0) ensureObject(path.slice(0, -1));
    const created = {};
    operations.push({ op: "add", path: pointer(path), value: {} });
    parentOf(path)[path[path.length - 1] as string] = created;
    return created;
  }

  function insertAt(path: readonly string[], index: number | undefined, value: unknown) {
    const array = at(path) as unknown[] | undefined;
    if (array === undefined || array === null) {
      const parent = ensureObject(path.slice(0, -1)) as Record<string, Json>;
      operations.push({ op: "add", path: pointer(path), value: [structuredClone(value)] });
      parent[path[path.length - 1] as string] = [structuredClone(value)];
      return;
    }
    const position = index === undefined || index >= array.length ? "-" : String(index);
    operations.push({ op: "add", path: `${pointer(path)}/${position}`, value: structuredClone(value) });
    if (position === "-") array.push(structuredClone(value));
    else array.splice(index as number, 0, structuredClone(value));
  }

  return {
    pod,
    operations,
    append: (path, value) => insertAt(path, undefined, value),
    insert: (path, index, value) => insertAt(path, index, value),
    removeWhere(path, matches) {
      const array = at(path) as unknown[] | undefined;
      if (!Array.isArray(array)) return;
      for (let index = array.length - 1; index >= 0; index--) {
        if (matches(array[index] as never)) {
          operations.push({ op: "remove", path: `${pointer(path)}/${index}` });
          array.splice(index, 1);
        }
      }
    },
    set(path, key, value) {
      const object = ensureObject(path);
      operations.push({
        op: "add",
        path: `${pointer(path)}/${pointerSegment(key)}`,
        value: structuredClone(value),
      });
      object[key] = structuredClone(value);
    },
    unset(path, key) {
      const object = at(path) as Record<string, unknown> | undefined;
      if (object === undefined || object === null || !Object.hasOwn(object, key)) return;
      operations.push({ op: "remove", path: `${pointer(path)}/${pointerSegment(key)}` });
      delete object[key];
    },
  };
}
