/**
 * Strings in code-unit order, as Go's sort.Strings orders kubectl's output. Not localeCompare: its first call
 * sets up an ICU collator, ~7 ms of a command's start-up and megabytes of ICU data paged in.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
