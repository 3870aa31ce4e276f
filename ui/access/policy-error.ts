/**
 * The line a policy error is about: the server says "at line N" for syntax errors, and
 * names the path block (`path "secret/*": ...`) for errors in a rule.
 */
export function errorLine(message: string, text: string): number | undefined {
  const at = /at line (\d+)/.exec(message);
  if (at) return Number(at[1]);
  const block = /path ("(?:[^"\\]|\\.)*")/.exec(message);
  if (!block) return undefined;
  let path: string;
  try {
    path = JSON.parse(block[1] as string);
  } catch {
    return undefined;
  }
  const lines = text.split("\n");
  const index = lines.findIndex((line) => {
    const match = /^\s*path\s+"((?:[^"\\]|\\.)*)"/.exec(line);
    return match !== null && match[1] === path;
  });
  return index === -1 ? undefined : index + 1;
}
