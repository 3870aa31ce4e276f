/**
 * What KV handlers read from a request beyond typed fields, and their answers that carry
 * no secret: the secret path, the merge-patch body type, check-and-set, 404s, warnings.
 */
import { CofferError, invalidRequest } from "../../errors.ts";
import { optionalObject } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, JsonObject } from "../engine.ts";
import { checkSecretPath } from "./limits.ts";

const MERGE_PATCH = "application/merge-patch+json";

export const secretPathOf = (request: EngineRequest) => checkSecretPath(request.params.path);

/** Vault takes PATCH bodies only as JSON merge patches, and says so with 415. */
export function requireMergePatch(request: EngineRequest): void {
  const mediaType = request.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mediaType !== MERGE_PATCH) {
    const provided = mediaType === "" ? "none" : JSON.stringify(mediaType.slice(0, 100));
    throw new CofferError(
      "ERR_UNSUPPORTED_MEDIA_TYPE",
      `PATCH requires Content-Type of ${MERGE_PATCH}, provided ${provided}`,
    );
  }
}

/** options.cas: absent, or the version the write expects to follow (0 = create only). */
export function casOf(data: JsonObject): number | undefined {
  const options = optionalObject(data, "options");
  const value = options?.cas;
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw invalidRequest('invalid value for "options.cas": expected an integer >= 0');
  }
  return number;
}

/** The secret's data from a write body: required, and an object. */
export function secretDataOf(data: JsonObject): JsonObject {
  if (data.data === undefined || data.data === null) {
    throw invalidRequest('no data provided: the body must have a "data" object');
  }
  return optionalObject(data, "data")!;
}

/** Adds warnings to a response; an empty response with warnings becomes a 200. */
export function withWarnings(
  response: EngineResponse,
  warnings: readonly (string | undefined)[],
): EngineResponse {
  const present = warnings.filter((warning): warning is string => warning !== undefined);
  if (present.length === 0) return response;
  return { ...response, warnings: [...(response.warnings ?? []), ...present] };
}
