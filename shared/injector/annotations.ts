/**
 * Reading the pod's annotations: Vault's injector annotations (`vault.hashicorp.com/...`)
 * and the same names under Coffer's own prefix, which wins when a pod carries both.
 * Values are read as Vault's injector reads them: booleans with Go's strconv.ParseBool,
 * durations with Go's time.ParseDuration.
 */

export const VAULT_PREFIX = "vault.hashicorp.com/";
export const COFFER_PREFIX = "coffer.dev/";
/** Coffer's prefix first: on a pod that carries both, Coffer's value is the one used. */
export const PREFIXES = [COFFER_PREFIX, VAULT_PREFIX] as const;

/** An annotation whose value the injector cannot act on: the pod is refused, with this message. */
export class AnnotationError extends Error {
  override readonly name = "AnnotationError";
}

export interface Annotation {
  /** The full key, prefix included, for messages. */
  key: string;
  value: string;
}

export interface AnnotationReader {
  /** The annotation `<prefix><name>`, Coffer's prefix first. */
  get(name: string): Annotation | undefined;
  /** Every annotation `<prefix><base>-<suffix>`, by suffix, Coffer's prefix winning. */
  withPrefix(base: string): Map<string, Annotation>;
  /** Every annotation under either prefix, by name without the prefix. */
  names(): Map<string, Annotation>;
}

export function readAnnotations(raw: Readonly<Record<string, string>> = {}): AnnotationReader {
  const byName = new Map<string, Annotation>();
  // Vault's first, then Coffer's over it.
  for (const prefix of [...PREFIXES].reverse()) {
    for (const [key, value] of Object.entries(raw)) {
      if (key.startsWith(prefix) && typeof value === "string") {
        byName.set(key.slice(prefix.length), { key, value });
      }
    }
  }
  return {
    get: (name) => byName.get(name),
    withPrefix(base) {
      const found = new Map<string, Annotation>();
      for (const [name, annotation] of byName) {
        if (name.startsWith(`${base}-`) && name.length > base.length + 1) {
          found.set(name.slice(base.length + 1), annotation);
        }
      }
      return found;
    },
    names: () => new Map(byName),
  };
}

/** Go's strconv.ParseBool, which Vault's injector uses for every boolean annotation. */
export function parseGoBool(annotation: Annotation): boolean {
  const value = annotation.value.trim();
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  throw new AnnotationError(
    `${annotation.key}: "${annotation.value}" is not a boolean (use "true" or "false")`,
  );
}

export function readBool(reader: AnnotationReader, name: string, fallback: boolean): boolean {
  const annotation = reader.get(name);
  return annotation === undefined ? fallback : parseGoBool(annotation);
}

const GO_DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration ("1h30m", "1.5s", "300ms"), in milliseconds. */
export function parseGoDuration(annotation: Annotation): number {
  const text = annotation.value.trim();
  const fail = () =>
    new AnnotationError(
      `${annotation.key}: "${annotation.value}" is not a duration such as "30s" or "1h30m"`,
    );
  if (text === "0") return 0;
  if (!/^(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))*$/.test(text))
    throw fail();
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(amount) * (GO_DURATION_UNITS[unit as string] ?? Number.NaN);
  }
  if (!Number.isFinite(total)) throw fail();
  return total;
}
