/** Append-only logs of one JSON object per line (events, the explain step log). */
import fs from 'node:fs';

/** One line per object, in one write with O_APPEND: concurrent writers never interleave within a line. */
export function appendJsonLines(file: string, values: readonly unknown[]): void {
  if (values.length) fs.appendFileSync(file, values.map((v) => JSON.stringify(v)).join('\n') + '\n');
}

/** Every line that parses; a missing file is an empty log, a torn last line is skipped. */
export function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as T];
      } catch {
        return [];
      }
    });
}
