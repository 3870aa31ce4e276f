/**
 * password_authentication "scram-sha-256": the password reaches PostgreSQL only as a
 * SCRAM-SHA-256 verifier (RFC 5802/7677, in the format PostgreSQL stores in pg_authid), so
 * it appears in no statement, server log or pg_stat_activity entry. PostgreSQL accepts a
 * verifier wherever it accepts a password (CREATE ROLE ... PASSWORD '<verifier>') and
 * stores it as is. Computed with Web Crypto; generated passwords are ASCII, for which
 * SASLprep changes nothing.
 */
import { toBase64 } from "../../crypto/encoding.ts";

/** PostgreSQL's default (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;
const encoder = new TextEncoder();

async function hmac(key: ArrayBuffer, message: string): Promise<ArrayBuffer> {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return crypto.subtle.sign("HMAC", imported, encoder.encode(message));
}

export async function scramVerifier(
  password: string,
  salt: Uint8Array<ArrayBuffer> = crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
): Promise<string> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const salted = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: SCRAM_ITERATIONS },
    base,
    256,
  );
  const clientKey = await hmac(salted, "Client Key");
  const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
  const serverKey = new Uint8Array(await hmac(salted, "Server Key"));
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${toBase64(salt)}$${toBase64(storedKey)}:${toBase64(serverKey)}`;
}
