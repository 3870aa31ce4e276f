/**
 * Vault's batch model for encrypt, decrypt, rewrap: a request carries either one item in
 * its own fields or a `batch_input` list. Items fail one by one: a failed item has an
 * `error` in its place in `batch_results` and the others still succeed. As in Vault, any
 * failed item makes the status 400 (or `partial_failure_response_code` when some
 * succeeded); a single-item request that fails is a plain 400. A failed item leaves
 * nothing behind: the only write is encrypt creating a missing key before any item runs,
 * which stays even if every item then fails, as in Vault.
 */
import { invalidRequest, isCofferError, payloadTooLarge } from "../../errors.ts";
import { optionalInteger } from "../../http/fields.ts";
import type { EngineResponse, JsonObject } from "../engine.ts";

/** Most items one request takes; bodies are bounded too (1 MiB), whichever comes first. */
export const MAX_BATCH_ITEMS = 1000;

export interface RequestItems {
  batch: boolean;
  items: JsonObject[];
  /** The status to answer when some items fail and some succeed. */
  partialFailureStatus?: number;
}

export type ItemResult = { ok: JsonObject } | { error: string };

/** The request's items: its `batch_input`, or the request's own `itemFields` as one item. */
export function requestItems(data: JsonObject, itemFields: readonly string[]): RequestItems {
  const partialFailureStatus = optionalInteger(data, "partial_failure_response_code");
  const input = data.batch_input;
  if (input === undefined || input === null) {
    const item: JsonObject = {};
    for (const field of itemFields) if (data[field] !== undefined) item[field] = data[field];
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
 * Runs `process` on every item. A caller's mistake (ERR_INVALID_REQUEST) fails its item
 * only; anything else (storage or KMS down, a stale key) fails the whole request.
 */
export async function settleItems(
  items: readonly JsonObject[],
  itemFields: readonly string[],
  process: (item: JsonObject) => Promise<JsonObject>,
): Promise<ItemResult[]> {
  return Promise.all(
    items.map(async (item): Promise<ItemResult> => {
      try {
        const unknown = Object.keys(item).filter((key) => !itemFields.includes(key));
        if (unknown.length > 0) throw invalidRequest(`unknown fields: ${unknown.sort().join(", ")}`);
        itemString(item, "reference");
        return { ok: await process(item) };
      } catch (error) {
        if (isCofferError(error, "ERR_INVALID_REQUEST")) return { error: error.message };
        throw error;
      }
    }),
  );
}

/** The response in Vault's shape for single and batch requests alike. */
export function batchResponse(
  request: RequestItems,
  results: readonly ItemResult[],
  warnings: string[] = [],
): EngineResponse {
  if (!request.batch) {
    const [result] = results;
    if (!result || "error" in result) throw invalidRequest(result?.error ?? "no result");
    return { data: result.ok, warnings: warnings.length > 0 ? warnings : undefined };
  }
  const batchResults = results.map((result, index) => {
    const reference = request.items[index]?.reference;
    const shown = typeof reference === "string" ? reference : "";
    return "error" in result ? { error: result.error, reference: shown } : { ...result.ok, reference: shown };
  });
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

/** A string field of an item, "" when absent. */
export function itemString(item: JsonObject, name: string): string {
  const value = item[name];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw invalidRequest(`invalid value for "${name}": expected a string`);
  return value;
}
