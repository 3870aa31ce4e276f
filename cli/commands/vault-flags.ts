/**
 * The vault CLI writes long flags with one dash (`-format=json`, `-field password`);
 * the argument parser reads one dash as a cluster of one-letter flags. Rewriting
 * `-word` and `-word=value` to `--word...` before parsing lets both spellings work.
 * One-letter flags (-h, -V), a lone "-" (standard input) and everything after "--" are
 * left alone.
 */
export function acceptVaultStyleFlags(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, index) =>
    (end === -1 || index < end) && /^-[A-Za-z][A-Za-z0-9-]+(=.*)?$/s.test(arg) ? `-${arg}` : arg,
  );
}
