/** `config/keys`: mount-wide settings; `disable_upsert` stops encrypt from creating keys. */
import { optionalBoolean, rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import type { TransitMount } from "./transit-mount.ts";

export function configKeysRoute(transit: TransitMount): Route {
  async function read(): Promise<EngineResponse> {
    const settings = await transit.storage.settings();
    return { data: { disable_upsert: settings.disableUpsert } };
  }

  async function update(request: EngineRequest): Promise<EngineResponse> {
    rejectUnknownFields(request.data, ["disable_upsert"]);
    const current = await transit.storage.settings();
    const disableUpsert = optionalBoolean(request.data, "disable_upsert") ?? current.disableUpsert;
    await transit.storage.saveSettings({ disableUpsert });
    return { data: { disable_upsert: disableUpsert } };
  }

  return { pattern: /^config\/keys$/, operations: { read, update } };
}
