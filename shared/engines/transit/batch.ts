/**
 * Vault's batch model for encrypt, decrypt, rewrap, sign, verify and hmac: a request
 * carries either one item in its own fields or a `batch_input` list. Items fail one by
 * one: a failed item has an `error` in its place in `batch_results` and the others still
 * succeed. As in Vault, for encrypt, decrypt and rewrap any failed item makes the status
 * 400 (or `partial_failure_response_code` when some succeeded); sign, verify and hmac
 * answer 200. A single-item request that fails is a plain 400. A failed item leaves
 * nothing behind: the only write is encrypt creating a missing key before any item runs,
 * which stays even if every item then fails, as in Vault.
 */
import { invalidRequest, isCofferError, payloadTooLarge } from "../../errors.ts";
import type { EngineResponse, JsonObject } from "../engine.ts";
import { type FieldSchema, type FieldValues, parseFields } from "../fields.ts";

/** Most items one request takes; bodies are bounded too (1 MiB), whichever comes first. */
export const MAX_BATCH_ITEMS = 1000;

export interface RequestItems {
  batch: boolean;
  items: JsonObject[];
  /** The status to answer when some items fail and some succeed. */
  partialFailureStatus?: number;
}

export type ItemResult = { ok: JsonObject } | { error: string };

/** The fields every batch route takes beside its items' own. */
export const BATCH_FIELDS = {
  batch_input: { type: "any", description: "A list of items, each with the item fields, instead of one." },
  partial_failure_response_code: {
    type: "integer",
    description: "The status to answer when some items of a batch fail and others succeed.",
  },
} as const satisfies FieldSchema;

/**
 * The request's items: its `batch_input`, or the request's own item fields as one item.
 * `fields` are the route's parsed fields, which include the item fields.
 */
export function requestItems(fields: Record<string, unknown>, itemSchema: FieldSchema): RequestItems {
  const partialFailureStatus = fields.partial_failure_response_code as number | undefined;
  const input = fields.batch_input;
  if (input === undefined || input === null) {
    const item: JsonObject = {};
    for (const field of Object.keys(itemSchema)) if (fields[field] !== undefined) item[field] = fields[field];
    return { batch: false, items: [item] };
  }
  if (!Array.isArray(input)) {
    throw invalidRequest('invalid value for "batch_input": expected a list of objects');
  }
  if (input.length === 0) throw invalidRequest("missing batch input to process");
  if (input.length > MAX_BATCH_ITEMS) {
    throw payloadTooLarge(`batch_input has ${input.length} items; at most ${MAX_BATCH_ITEMS} are accepted`);
  }
  input.forEach((item, index) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw invalidRequest(`invalid value for "batch_input[${index}]": expected an object`);
    }
  });
  return { batch: true, items: input as JsonObject[], partialFailureStatus };
}

/**
 * Runs `process` on every item, its fields parsed against the item schema; as in Vault,
 * an item's keys the schema does not name are ignored. A caller's mistake
 * (ERR_INVALID_REQUEST) fails its item only; anything else (storage or KMS down, a stale
 * key) fails the whole request.
 */
export async function settleItems<S extends FieldSchema>(
  items: readonly JsonObject[],
  itemSchema: S,
  process: (item: FieldValues<S>) => Promise<JsonObject>,
): Promise<ItemResult[]> {
  return Promise.all(
    items.map(async (item): Promise<ItemResult> => {
      try {
        const { values } = parseFields(itemSchema, item, {});
        return { ok: await process(values as FieldValues<S>) };
      } catch (error) {
        if (isCofferError(error, "ERR_INVALID_REQUEST")) return { error: error.message };
        throw error;
      }
    }),
  );
}

/** A single-item request's answer: its result, or its error as a plain 400. */
function singleResponse(results: readonly ItemResult[], warnings: string[]): EngineResponse {
  const [result] = results;
  if (!result || "error" in result) throw invalidRequest(result?.error ?? "no result");
  return { data: result.ok, warnings: warnings.length > 0 ? warnings : undefined };
}

/** Each result with its item's reference; a failed one with its error and `failed`'s fields. */
function referencedResults(
  request: RequestItems,
  results: readonly ItemResult[],
  failed: JsonObject = {},
): JsonObject[] {
  return results.map((result, index) => {
    const reference = request.items[index]?.reference;
    const shown = typeof reference === "string" ? reference : "";
    return "error" in result
      ? { ...failed, error: result.error, reference: shown }
      : { ...result.ok, reference: shown };
  });
}

/**
 * Sign, verify and hmac answer a batch with 200 whatever its items' outcomes, as Vault
 * does (only encrypt, decrypt and rewrap take partial_failure_response_code). A failed
 * result carries `failed`'s fields beside its error: Vault's sign results always carry
 * `key_version`, its signature verification results `valid`.
 */
export function itemsResponse(
  request: RequestItems,
  results: readonly ItemResult[],
  failed: JsonObject = {},
  warnings: string[] = [],
): EngineResponse {
  if (!request.batch) return singleResponse(results, warnings);
  return {
    data: { batch_results: referencedResults(request, results, failed) },
    warnings: warnings.length > 0 ? warnings : undefined,
  };
}

/** The response in Vault's shape for single and batch requests alike. */
export function batchResponse(
  request: RequestItems,
  results: readonly ItemResult[],
  warnings: string[] = [],
): EngineResponse {
  if (!request.batch) return singleResponse(results, warnings);
  const batchResults = referencedResults(request, results);
  const failures = results.filter((result) => "error" in result).length;
  let status: number | undefined;
  if (failures > 0) {
    status = 400;
    const override = request.partialFailureStatus;
    if (override !== undefined && failures < results.length) {
      if (isSendableStatus(override)) {
        status = override;
      } else {
        warnings.push(
          `invalid HTTP response code override from partial_failure_response_code, reverting to 400`,
        );
      }
    }
  }
  return {
    status,
    data: { batch_results: batchResults },
    warnings: warnings.length > 0 ? warnings : undefined,
  };
}

/** A status a JSON body can travel with. */
function isSendableStatus(code: number): boolean {
  return code >= 200 && code <= 599 && code !== 204 && code !== 205 && code !== 304;
}
