/** Plain text columns, as kubectl and crictl print them: left-aligned, two spaces apart, no trailing blanks. */
export function formatColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join('')).join('\n') + '\n';
}

/** A size as docker and podman print image sizes: decimal units, one decimal below 10 (2.1MB, 187MB). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

/** An age as kubectl prints it: 5s, 5m, 4h, 9d, 2y; `-` when there is none. */
export function formatAge(since: string | undefined, now = Date.now()): string {
  if (!since) return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  if (s < 2 * 31_536_000) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / 31_536_000)}y`;
}
