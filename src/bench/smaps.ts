/** Parsing /proc/PID/smaps_rollup. Pure; unit-tested in test/unit/bench/smaps.test.ts. */

/** Every "Key:   123 kB" field of the rollup, in kB, by key (Rss, Pss, Pss_Anon, Shared_Clean, ...). */
export function parseSmapsRollup(text: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_]+):\s+(\d+)\s*kB\s*$/.exec(line);
    if (m) fields[m[1]!] = Number(m[2]);
  }
  return fields;
}

export interface MemoryUse {
  rssKb: number;
  pssKb: number;
}

/** RSS and PSS of one rollup; throws when either field is missing (not a smaps_rollup, or a kernel < 4.14). */
export function memoryUse(text: string): MemoryUse {
  const f = parseSmapsRollup(text);
  if (f.Rss === undefined || f.Pss === undefined) throw new Error('smaps_rollup: no Rss/Pss field');
  return { rssKb: f.Rss, pssKb: f.Pss };
}
