/** `keys/<name>/rotate`: a new version, used by every encryption from now on. */
import { invalidRequest } from "../../errors.ts";
import { rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import { rotateKey } from "./key-lifecycle.ts";
import { checkKeyName } from "./key-policy.ts";
import { keyResponse, refuseUnsupported } from "./path-keys.ts";
import type { TransitMount } from "./transit-mount.ts";

const FIELDS = ["managed_key_name", "managed_key_id"];

export function rotateRoute(transit: TransitMount): Route {
  async function rotate(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    rejectUnknownFields(request.data, FIELDS);
    refuseUnsupported(request.data, FIELDS, "managed keys");
    const outcome = await rotateKey(transit, name);
    if (!outcome) throw invalidRequest("key not found");
    return keyResponse(transit, outcome.policy);
  }

  return { pattern: /^keys\/(?<name>[^/]+)\/rotate$/, operations: { update: rotate } };
}
