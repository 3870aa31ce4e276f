/** A route's typed field values from raw data, as the router parses them, for unit tests of handlers' helpers. */
import type { JsonObject } from "../../shared/engines/engine.ts";
import { type FieldSchema, type FieldValues, parseFields } from "../../shared/engines/fields.ts";

export function fieldsOf<S extends FieldSchema>(schema: S, data: JsonObject): FieldValues<S> {
  return parseFields(schema, data, {}).values as FieldValues<S>;
}
