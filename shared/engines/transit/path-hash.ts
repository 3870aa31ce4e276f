/** `hash(/<algorithm>)`: the hash of base64 input, hex or base64, as Vault's transit computes it. */
import { toBase64, toHex } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import { decodeInput } from "./go-base64.ts";
import { DEFAULT_HASH, hashAlgorithm } from "./hash-algorithms.ts";

/** The output encodings of hash and random. */
export function encoded(bytes: Uint8Array, format: string): string {
  return format === "hex" ? toHex(bytes) : toBase64(bytes);
}

export function hashRoute(): Route {
  return route({
    pattern: /^hash(?:\/(?<urlalgorithm>.+))?$/,
    fields: {
      urlalgorithm: { type: "string", path: true, description: "The hash algorithm, in the path." },
      input: { type: "string", description: "The base64 input." },
      algorithm: {
        type: "string",
        default: DEFAULT_HASH,
        description:
          "sha2-224, sha2-256 (the default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384 or sha3-512.",
      },
      format: { type: "string", default: "hex", description: '"hex" (the default) or "base64".' },
    },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const { input, format, urlalgorithm, algorithm } = request.fields;
        if (input === undefined) throw invalidRequest("input missing");
        const bytes = decodeInput(input);
        if (format !== "hex" && format !== "base64") {
          throw invalidRequest(`unsupported encoding format ${format}; must be "hex" or "base64"`);
        }
        const name = urlalgorithm || algorithm;
        const hash = hashAlgorithm(name);
        // Vault's hash endpoint offers neither sha1 nor "none".
        if (!hash || name === "sha1") throw invalidRequest(`unsupported algorithm ${name}`);
        return { data: { sum: encoded(hash.hash(bytes), format) } };
      },
    },
  });
}
