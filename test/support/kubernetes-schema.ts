/**
 * Kubernetes' own schemas (the kubernetes-models package: the API server's OpenAPI
 * definitions compiled to validators, offline), made strict: Kubernetes' schemas allow
 * unknown fields, which the API server then refuses or drops; here an unknown field, a
 * typo included, is reported.
 */
import { expect } from "vitest";

export type SchemaCheck = ((data: unknown) => boolean) & { errors?: unknown };

/**
 * Fields the schema does not define. The compiled validator reads every property its
 * schema knows; a property it never read is one the schema does not have.
 */
export function unknownFields(schema: SchemaCheck, manifest: unknown): string[] {
  const read = new Set<string>();
  const watch = (value: unknown, path: string): unknown =>
    value === null || typeof value !== "object"
      ? value
      : new Proxy(value, {
          get(target, key, receiver) {
            const inner = Reflect.get(target, key, receiver);
            if (typeof key !== "string") return inner;
            read.add(`${path}/${key}`);
            return watch(inner, `${path}/${key}`);
          },
        });
  expect(schema(watch(manifest, "")), JSON.stringify(schema.errors)).toBe(true);
  const present: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== "object") return;
    for (const [key, inner] of Object.entries(value)) {
      present.push(`${path}/${key}`);
      walk(inner, `${path}/${key}`);
    }
  };
  walk(manifest, "");
  return present.filter((path) => !read.has(path));
}
