/**
 * Route fields as the router parses them, Vault's FieldData rules: path parameters are
 * fields and win over the body, undeclared fields are ignored and named, declared ones
 * are typed with Vault's leniency or refused with a 400 naming them.
 */
import { describe, expect, it } from "vitest";
import { type FieldSchema, fieldWarnings, parseFields } from "../../../shared/engines/fields.ts";
import { isCofferError } from "../../../shared/errors.ts";

const SCHEMA = {
  name: { type: "string", path: true, description: "from the path" },
  ttl: { type: "duration", description: "a duration" },
  count: { type: "integer", min: 1, max: 5, default: 2, description: "an integer with a default" },
  on: { type: "boolean", description: "a boolean" },
  tags: { type: "stringList", description: "a comma list" },
  statements: { type: "stringSlice", description: "never split" },
  versions: { type: "integerList", min: 1, description: "integers" },
  meta: { type: "object", description: "an object" },
  raw: { type: "any", description: "as sent" },
  label: { type: "string", required: true, description: "required" },
} as const satisfies FieldSchema;

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (isCofferError(error, "ERR_INVALID_REQUEST")) return error.message;
    throw error;
  }
  return "no refusal";
};

describe("parseFields", () => {
  it("types what the route declares, with Vault's leniency, and applies defaults", () => {
    const { values } = parseFields(
      SCHEMA,
      {
        ttl: "1h30m",
        on: "1",
        tags: "a, b,,c",
        statements: "SELECT 1, 2",
        versions: "1,3",
        meta: { k: "v" },
        raw: null,
        label: "x",
      },
      { name: "app" },
    );
    expect(values).toEqual({
      name: "app",
      ttl: 5400,
      count: 2,
      on: true,
      tags: ["a", "b", "c"],
      statements: ["SELECT 1, 2"],
      versions: [1, 3],
      meta: { k: "v" },
      raw: null,
      label: "x",
    });
  });

  it("takes path parameters from the path, over the body, and says so", () => {
    const parsed = parseFields(SCHEMA, { name: "body", label: "x" }, { name: "path" });
    expect(parsed.values.name).toBe("path");
    expect(parsed.replaced).toEqual(["name"]);
    expect(fieldWarnings(parsed)).toEqual([
      "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]",
    ]);
  });

  it("ignores undeclared fields and names them, sorted, in Vault's words", () => {
    const parsed = parseFields(SCHEMA, { zeta: 1, mount_point: "x", label: "x" }, { name: "n" });
    expect(parsed.ignored).toEqual(["mount_point", "zeta"]);
    expect(fieldWarnings(parsed)).toEqual([
      "Endpoint ignored these unrecognized parameters: [mount_point zeta]",
    ]);
    expect(parseFields(SCHEMA, { zeta: 1, label: "x" }, {}, { takesArbitraryData: true }).ignored).toEqual(
      [],
    );
  });

  it("counts null, and an empty string for scalars, as not given", () => {
    const { values } = parseFields(SCHEMA, { ttl: "", count: null, on: "", label: "x" }, { name: "n" });
    expect(values).toMatchObject({ ttl: undefined, count: 2, on: undefined });
  });

  it("refuses a declared field of the wrong type or out of range, naming it", () => {
    const parse = (data: Record<string, unknown>) => () =>
      parseFields(SCHEMA, { label: "x", ...data }, { name: "n" });
    expect(refusal(parse({ ttl: "soon" }))).toBe(
      'invalid value for "ttl": expected a duration such as "1h" or 3600',
    );
    expect(refusal(parse({ count: 9 }))).toBe('invalid value for "count": expected an integer <= 5');
    expect(refusal(parse({ on: "maybe" }))).toBe('invalid value for "on": expected a boolean');
    expect(refusal(parse({ tags: [1] }))).toBe('invalid value for "tags": expected a list of strings');
    expect(refusal(parse({ versions: "0" }))).toBe(
      'invalid value for "versions": expected a list of integers >= 1',
    );
    expect(refusal(parse({ meta: [] }))).toBe('invalid value for "meta": expected an object');
    expect(refusal(parse({ label: "" }))).toBe('missing required field "label"');
    expect(refusal(() => parseFields(SCHEMA, {}, { name: "n" }))).toBe('missing required field "label"');
  });
});
