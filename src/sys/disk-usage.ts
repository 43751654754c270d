/** What a directory tree takes on disk, as `du` counts it: st_blocks of every entry (each inode once), no symlink followed. */
export function diskUsage(dir: string): { bytes: number; inodes: number } {
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  const seen = new Set<number>();
  let bytes = 0;
  const walk = (p: string): void => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st || seen.has(st.ino)) return;
    seen.add(st.ino);
    bytes += st.blocks * 512;
    if (!st.isDirectory()) return;
    let entries: string[];
    try {
      entries = fs.readdirSync(p);
    } catch {
      return;
    }
    for (const e of entries) walk(path.join(p, e));
  };
  walk(dir);
  return { bytes, inodes: seen.size };
}
