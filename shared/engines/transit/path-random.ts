/**
 * `random(/<source>)(/<bytes>)`: random bytes from the platform's CSPRNG (Web Crypto),
 * hex or base64, parsed as Vault parses the path: one segment is the source if it names
 * one, else the byte count. Coffer has no entropy augmentation: "seal" answers platform
 * bytes with Vault's warning, "all" is the platform alone, and the `drbg` setting, which
 * only changes how Vault stretches its seed, gives platform bytes too.
 */
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import { goAtoi } from "./go-atoi.ts";
import { encoded } from "./path-hash.ts";

/**
 * At most 128 KiB per request (Vault allows 10 MiB from the platform): the answer goes
 * through the audit log and, on Lambda, a 6 MB response limit.
 */
export const MAX_RANDOM_BYTES = 128 * 1024;

const SOURCES = ["", "platform", "seal", "all"];
/** Web Crypto fills at most this many bytes per call. */
const FILL_LIMIT = 65_536;

function byteCount(text: string): number {
  const parsed = goAtoi(text);
  if ("error" in parsed) throw invalidRequest(`error parsing url-set byte count: ${parsed.error}`);
  return parsed.value;
}

export function randomRoute(): Route {
  return route({
    pattern: /^random(?:\/(?<source>[^/]+))?(?:\/(?<urlbytes>.+))?$/,
    fields: {
      source: {
        type: "string",
        path: true,
        description:
          '"platform" (the default), "seal" or "all"; or the byte count when it is the only segment.',
      },
      urlbytes: { type: "string", path: true, description: "The number of bytes, in the path." },
      bytes: { type: "integer", default: 32, description: "The number of bytes (default 32)." },
      format: { type: "string", default: "base64", description: '"base64" (the default) or "hex".' },
      drbg: {
        type: "string",
        description: '"auto" or "hmacdrbg": accepted; the bytes come from the platform.',
      },
    },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const fields = request.fields;
        let source = "platform";
        let bytes: number;
        if (fields.source === "") {
          bytes = fields.bytes;
        } else if (fields.urlbytes === "" && SOURCES.includes(fields.source)) {
          source = fields.source;
          bytes = fields.bytes;
        } else if (fields.urlbytes === "") {
          bytes = byteCount(fields.source);
        } else {
          source = fields.source;
          bytes = byteCount(fields.urlbytes);
        }
        if (fields.drbg !== undefined && !["", "auto", "hmacdrbg"].includes(fields.drbg)) {
          throw invalidRequest("invalid setting for drbg, must absent, auto, or hmacdrbg");
        }
        if (bytes < 1) throw invalidRequest('"bytes" cannot be less than 1');
        if (bytes > MAX_RANDOM_BYTES) throw invalidRequest(`"bytes" must be less than ${MAX_RANDOM_BYTES}`);
        if (!SOURCES.includes(source)) {
          throw invalidRequest(
            `unsupported entropy source ${JSON.stringify(source)}; must be "platform" or "seal", or "all"`,
          );
        }
        const format = fields.format;
        if (format !== "hex" && format !== "base64") {
          throw invalidRequest(
            `unsupported encoding format ${JSON.stringify(format)}; must be "hex" or "base64"`,
          );
        }
        const random = new Uint8Array(bytes);
        for (let offset = 0; offset < bytes; offset += FILL_LIMIT) {
          crypto.getRandomValues(random.subarray(offset, offset + FILL_LIMIT));
        }
        const warnings =
          source === "seal"
            ? ["no seal/entropy augmentation available, using platform entropy source"]
            : undefined;
        return { data: { random_bytes: encoded(random, format) }, warnings };
      },
    },
  });
}
