/** `config/keys`: mount-wide settings; `disable_upsert` stops encrypt from creating keys. */
import { type Route, route } from "../engine.ts";
import type { TransitMount } from "./transit-mount.ts";

export function configKeysRoute(transit: TransitMount): Route {
  return route({
    pattern: /^config\/keys$/,
    fields: {
      disable_upsert: { type: "boolean", description: "Whether encrypt may no longer create missing keys." },
    },
    operations: {
      async read() {
        const settings = await transit.storage.settings();
        return { data: { disable_upsert: settings.disableUpsert } };
      },
      async update(request) {
        const current = await transit.storage.settings();
        const disableUpsert = request.fields.disable_upsert ?? current.disableUpsert;
        await transit.storage.saveSettings({ disableUpsert });
        return { data: { disable_upsert: disableUpsert } };
      },
    },
  });
}
