/**
 * `coffer transit encrypt|decrypt` against a running `coffer dev`: text and binary
 * plaintext through arguments and pipes, and the server's refusals shown plainly.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";
import { api, runCli } from "./cli-harness.ts";

const ROOT = "cli-transit-root";

describe("coffer transit", () => {
  const server = useDevServer({ rootToken: ROOT });
  const coffer = (args: string[], stdin?: string | Buffer, extra: Record<string, string> = {}) =>
    runCli(args, {
      env: { COFFER_ADDR: server.url, COFFER_TOKEN: ROOT, HOME: server.home, ...extra },
      stdin,
    });

  beforeAll(async () => {
    await api(server.url, ROOT, "POST", "transit/keys/app-key", {});
    await api(server.url, ROOT, "POST", "transit/keys/derived-key", { derived: true });
  });

  it("encrypts an argument and decrypts it back, as a table, a field and JSON", async () => {
    const encrypt = await coffer(["transit", "encrypt", "app-key", "card 4111 1111"]);
    expect(encrypt.code, encrypt.stderr).toBe(0);
    const ciphertext = /ciphertext\s+(vault:v1:\S+)/.exec(encrypt.stdout)?.[1] as string;
    expect(ciphertext).toBeDefined();
    expect(encrypt.stdout).toMatch(/key_version\s+1/);

    const [table, field, json] = await Promise.all([
      coffer(["transit", "decrypt", "app-key", ciphertext]),
      coffer(["transit", "decrypt", "-field=plaintext", "app-key", ciphertext]),
      coffer(["transit", "decrypt", "--json", "app-key", ciphertext]),
    ]);
    expect(table.stdout).toMatch(/plaintext\s+card 4111 1111\n/);
    expect(field.stdout).toBe("card 4111 1111");
    expect(JSON.parse(json.stdout).data.plaintext).toBe(Buffer.from("card 4111 1111").toString("base64"));
  });

  it("passes binary data through standard input both ways", async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0x80]);
    const encrypt = await coffer(["transit", "encrypt", "-field=ciphertext", "app-key", "-"], bytes);
    expect(encrypt.code, encrypt.stderr).toBe(0);
    expect(encrypt.stdout).toMatch(/^vault:v1:/);
    const decrypt = await runCli(["transit", "decrypt", "-field=plaintext", "app-key"], {
      env: { COFFER_ADDR: server.url, COFFER_TOKEN: ROOT, HOME: server.home },
      stdin: `${encrypt.stdout}\n`,
    });
    expect(decrypt.stdoutBytes).toEqual(bytes);
  });

  it("uses a derivation context for derived keys", async () => {
    const encrypt = await coffer([
      "transit",
      "encrypt",
      "-field=ciphertext",
      "--context",
      "tenant-1",
      "derived-key",
      "x",
    ]);
    expect(encrypt.code, encrypt.stderr).toBe(0);
    const [right, wrong] = await Promise.all([
      coffer([
        "transit",
        "decrypt",
        "-field=plaintext",
        "--context",
        "tenant-1",
        "derived-key",
        encrypt.stdout,
      ]),
      coffer([
        "transit",
        "decrypt",
        "-field=plaintext",
        "--context",
        "tenant-2",
        "derived-key",
        encrypt.stdout,
      ]),
    ]);
    expect(right.stdout).toBe("x");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^Error: .+ \(HTTP 400 on POST transit\/decrypt\/derived-key\)\n$/);
  });

  it("shows the server's refusal of a bad ciphertext, and usage errors with 1", async () => {
    const [garbage, noKey, noCiphertext] = await Promise.all([
      coffer(["transit", "decrypt", "app-key", "garbage"]),
      coffer(["transit", "encrypt"]),
      coffer(["transit", "decrypt", "app-key"], ""),
    ]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toBe(
      "Error: invalid ciphertext: no prefix (HTTP 400 on POST transit/decrypt/app-key)\n",
    );
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("missing required argument 'key'");
    expect(noCiphertext.code).toBe(1);
    expect(noCiphertext.stderr).toBe("Error: missing ciphertext: standard input was empty\n");
  });
});
