/** Plain-text table formatting for the bench report. Pure; unit-tested in test/unit/bench/table.test.ts. */

export type Align = 'left' | 'right';

/** Pads every cell to its column's width; numeric-looking columns are given as `align`. Two spaces between columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => {
        const cell = cells[i] ?? '';
        return (align[i] ?? 'left') === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n') + '\n';
}

/** Milliseconds with one decimal below 100, none above; '-' for NaN / undefined. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

/** A ratio as "3.2x"; '-' for NaN. */
export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '-';
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}x`;
}

/** Kilobytes as megabytes (1 MB = 1024 kB, as /proc reports kB), two decimals. */
export function formatMb(kb: number | undefined): string {
  if (kb === undefined || !Number.isFinite(kb)) return '-';
  return (kb / 1024).toFixed(2);
}
