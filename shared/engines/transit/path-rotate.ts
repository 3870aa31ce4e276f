/** `keys/<name>/rotate`: a new version, used by every encryption from now on. */
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import { rotateKey } from "./key-lifecycle.ts";
import { checkKeyName, KEY_NAME } from "./key-policy.ts";
import { keyResponse, refuseUnsupported } from "./path-keys.ts";
import type { TransitMount } from "./transit-mount.ts";

export function rotateRoute(transit: TransitMount): Route {
  return route({
    pattern: /^keys\/(?<name>[^/]+)\/rotate$/,
    fields: {
      name: KEY_NAME,
      managed_key_name: { type: "string", description: "Refused when set: Coffer has no managed keys." },
      managed_key_id: { type: "string", description: "Refused when set: Coffer has no managed keys." },
    },
    operations: {
      async update(request) {
        const { name, managed_key_name, managed_key_id } = request.fields;
        checkKeyName(name);
        refuseUnsupported({ managed_key_name, managed_key_id }, "managed keys");
        const outcome = await rotateKey(transit, name);
        if (!outcome) throw invalidRequest("key not found");
        return keyResponse(transit, outcome.policy);
      },
    },
  });
}
