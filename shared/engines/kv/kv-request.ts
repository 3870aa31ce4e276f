/**
 * What KV handlers check beyond their typed fields, and their answers that carry no
 * secret: the merge-patch body type, check-and-set, the secret's data, warnings.
 */
import { CofferError, invalidRequest } from "../../errors.ts";
import type { EngineRequest, EngineResponse, JsonObject } from "../engine.ts";
import type { PathField } from "../fields.ts";

const MERGE_PATCH = "application/merge-patch+json";

/** The secret path a KV route takes from its pattern. */
export const SECRET_PATH: PathField = { type: "string", path: true, description: "The secret's path." };

/** Vault takes PATCH bodies only as JSON merge patches, and says so with 415. */
export function requireMergePatch(request: Pick<EngineRequest, "contentType">): void {
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
export function casOf(options: JsonObject | undefined): number | undefined {
  const value = options?.cas;
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw invalidRequest('invalid value for "options.cas": expected an integer >= 0');
  }
  return number;
}

/** The secret's data from a write: required. */
export function secretDataOf(data: JsonObject | undefined): JsonObject {
  if (data === undefined) throw invalidRequest('no data provided: the body must have a "data" object');
  return data;
}

/** Adds the engine's own warnings to a response; an empty response with warnings becomes a 200. */
export function withWarnings(
  response: EngineResponse,
  warnings: readonly (string | undefined)[],
): EngineResponse {
  const present = warnings.filter((warning): warning is string => warning !== undefined);
  if (present.length === 0) return response;
  return { ...response, warnings: [...(response.warnings ?? []), ...present] };
}
