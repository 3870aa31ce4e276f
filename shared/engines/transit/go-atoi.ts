/**
 * Go's strconv.Atoi, as Vault parses the numbers in transit paths (`random/<bytes>`,
 * `export/.../<version>`) and in `vault:v<N>:` prefixes: an optional sign, then decimal
 * digits, within a 64-bit integer. The error text is Go's, which Vault passes on.
 */

const INT64_MAX = 9_223_372_036_854_775_807n;

export type Atoi = { value: number } | { error: string };

export function goAtoi(text: string): Atoi {
  const quoted = JSON.stringify(text);
  if (!/^[+-]?\d+$/.test(text)) return { error: `strconv.Atoi: parsing ${quoted}: invalid syntax` };
  const value = BigInt(text);
  if (value > INT64_MAX || value < -INT64_MAX - 1n) {
    return { error: `strconv.Atoi: parsing ${quoted}: value out of range` };
  }
  // Beyond 2^53 the number is approximate, which only ever makes it "too large" anyway.
  return { value: Number(value) };
}
