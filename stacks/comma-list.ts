/** A setting that lists values: comma-separated, trimmed, empty entries and repeats dropped. */
export function commaList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  ];
}
