/**
 * OCI whiteouts -> overlayfs whiteouts (OCI image-spec layer.md "Whiteouts"; kernel
 * Documentation/filesystems/overlayfs.rst "whiteouts and opaque directories"):
 *
 *   `.wh.NAME`      -> a character device 0:0 named NAME (hides NAME of lower layers)
 *   `.wh..wh..opq`  -> xattr `trusted.overlay.opaque=y` on its directory (hides the lower directory's children)
 *
 * Both are made by extracting one small generated pax archive with GNU tar: tar creates the 0:0 devices
 * (mknod) and sets the xattrs (`SCHILY.xattr.*` records) in a single command, so podns needs neither
 * `setfattr` nor one `mknod` process per whiteout.
 */
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../sys/command.js';
import { fromNodeError } from '../errors.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const STEP = 'image.convertWhiteouts';

export interface WhiteoutPlan {
  /** Directories (relative to the layer root, '.' for the root) to mark opaque. */
  opaque: string[];
  /** Paths (relative) that become 0:0 character devices. */
  whiteouts: string[];
  /** Marker files to delete (absolute). */
  markers: string[];
}

/** Walks an unpacked layer and plans the conversion; changes nothing. */
export async function planWhiteouts(layerDir: string): Promise<WhiteoutPlan> {
  const plan: WhiteoutPlan = { opaque: [], whiteouts: [], markers: [] };
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(layerDir, rel);
    const entries = await readdir(abs, { withFileTypes: true });
    const names = new Set(entries.map((e) => e.name));
    for (const entry of entries) {
      const childRel = rel === '.' ? entry.name : `${rel}/${entry.name}`;
      if (entry.name === OPAQUE_MARKER) {
        plan.opaque.push(rel);
        plan.markers.push(path.join(abs, entry.name));
      } else if (entry.name.startsWith(WHITEOUT_PREFIX)) {
        const hidden = entry.name.slice(WHITEOUT_PREFIX.length);
        plan.markers.push(path.join(abs, entry.name));
        // A whiteout applies to lower layers only; if this layer also has NAME, that entry already hides
        // the lower one, and the spec says it must stay visible.
        if (hidden !== '' && !names.has(hidden)) plan.whiteouts.push(rel === '.' ? hidden : `${rel}/${hidden}`);
      } else if (entry.isDirectory()) {
        await walk(childRel);
      }
    }
  };
  try {
    await walk('.');
  } catch (err) {
    throw fromNodeError(STEP, err, `scan layer "${layerDir}" for whiteouts`);
  }
  return plan;
}

/** Applies a plan: deletes the markers, then extracts the generated archive of devices and opaque dirs. */
export async function applyWhiteouts(runner: CommandRunner, layerDir: string, plan: WhiteoutPlan, scratchFile: string): Promise<void> {
  if (plan.markers.length === 0) return;
  try {
    for (const marker of plan.markers) await rm(marker, { recursive: true, force: true });
    if (plan.opaque.length === 0 && plan.whiteouts.length === 0) return;
    const entries: PaxEntry[] = [];
    for (const dir of plan.opaque) {
      // Re-state the directory as it is, so extracting over it changes only the xattr.
      const st = await lstat(path.join(layerDir, dir));
      entries.push({
        name: dir === '.' ? './' : `./${dir}/`,
        type: '5',
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: Math.floor(st.mtimeMs / 1000),
        xattrs: { 'trusted.overlay.opaque': 'y' },
      });
    }
    for (const file of plan.whiteouts) {
      entries.push({ name: `./${file}`, type: '3', mode: 0, uid: 0, gid: 0, mtime: 0, devmajor: 0, devminor: 0 });
    }
    await writeFile(scratchFile, buildPaxArchive(entries));
  } catch (err) {
    throw fromNodeError(STEP, err, `prepare overlay whiteouts for "${layerDir}"`);
  }
  await runner.run(
    ['tar', '-x', '-C', layerDir, '-f', scratchFile, '--numeric-owner', '--same-permissions', '--xattrs', '--xattrs-include=*'],
    { step: STEP },
  );
  await rm(scratchFile, { force: true });
}

export interface PaxEntry {
  name: string;
  /** ustar typeflag: '0' file (empty), '3' char device, '5' directory. */
  type: '0' | '3' | '5';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
}

/** A minimal POSIX pax writer (POSIX.1-2008 `pax` "ustar Interchange Format" + extended headers); no file data. */
export function buildPaxArchive(entries: PaxEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const records: Record<string, string> = { path: entry.name };
    // ustar's 8-byte octal fields stop at 2097151; larger ids go in the extended header.
    if (entry.uid > 0o7777777) records.uid = String(entry.uid);
    if (entry.gid > 0o7777777) records.gid = String(entry.gid);
    for (const [key, value] of Object.entries(entry.xattrs ?? {})) records[`SCHILY.xattr.${key}`] = value;
    const body = Buffer.from(Object.entries(records).map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
    blocks.push(ustarHeader({ name: 'PaxHeader', type: 'x', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: body.length }));
    blocks.push(padBlock(body));
    blocks.push(ustarHeader({
      ...entry,
      name: entry.name.slice(0, 99),
      uid: Math.min(entry.uid, 0o7777777),
      gid: Math.min(entry.gid, 0o7777777),
      size: 0,
    }));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** `"%d %s=%s\n"` where the length counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const payload = ` ${key}=${value}\n`;
  const payloadLength = Buffer.byteLength(payload);
  let length = payloadLength + 1;
  while (String(length).length + payloadLength !== length) length = String(length).length + payloadLength;
  return `${length}${payload}`;
}

interface HeaderFields {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  devmajor?: number;
  devminor?: number;
}

function ustarHeader(h: HeaderFields): Buffer {
  const block = Buffer.alloc(512);
  const octal = (value: number, offset: number, width: number): void => {
    block.write(value.toString(8).padStart(width - 1, '0').slice(-(width - 1)), offset, 'ascii');
  };
  block.write(h.name, 0, 100, 'utf8');
  octal(h.mode, 100, 8);
  octal(h.uid, 108, 8);
  octal(h.gid, 116, 8);
  octal(h.size, 124, 12);
  octal(h.mtime, 136, 12);
  block.write(h.type, 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  octal(h.devmajor ?? 0, 329, 8);
  octal(h.devminor ?? 0, 337, 8);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return block;
}

function padBlock(data: Buffer): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return padded;
}
