/**
 * Passwords of generated users: 32 characters of letters and digits (about 190 bits) from
 * the platform's CSPRNG, drawn without modulo bias. Letters and digits only, so a password
 * needs no escaping anywhere: in a statement, a connection URL, or a shell.
 */
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const PASSWORD_LENGTH = 32;

/** `length` characters of `alphabet` (at most 256 of them), each equally likely. */
export function randomString(alphabet: string, length: number): string {
  // Bytes at or above the largest multiple of the alphabet's size are redrawn.
  const limit = 256 - (256 % alphabet.length);
  let result = "";
  while (result.length < length) {
    // getRandomValues fills at most 64 KiB at a time.
    const bytes = crypto.getRandomValues(new Uint8Array(Math.min(65_536, (length - result.length) * 2)));
    for (const byte of bytes) {
      if (byte < limit && result.length < length) result += alphabet[byte % alphabet.length];
    }
  }
  return result;
}

export const generatePassword = () => randomString(ALPHANUMERIC, PASSWORD_LENGTH);
