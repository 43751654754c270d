/**
 * The store's image records, `<store>/images/<sha256 of the name>.json`, read and looked up without the rest of
 * the store: `podns images` and `podns run` load this module, not the store's unpacking, archives, locks and
 * node:crypto (~12 ms of start-up between them). The reads are synchronous: a record is a small file, and
 * node:fs/promises alone costs ~1 ms to load.
 */
import path from 'node:path';
import { UserError, fromNodeError } from '../errors.js';
import { normalizeImageReference } from './reference.js';
import { sha256Hex } from './sha256.js';
import type { ImageRecord } from './types.js';
import { compareStrings } from '../state/compare.js';

/** An image id or a prefix of one (at least 4 hex digits), with or without `sha256:`. */
export const IMAGE_ID_RE = /^(?:sha256:)?([a-f0-9]{4,64})$/;

const fs = process.getBuiltinModule('node:fs');

/** Where a store rooted at `storeRoot` keeps its records. */
export function imageRecordsDir(storeRoot: string): string {
  return path.join(storeRoot, 'images');
}

/** The record file of the image named `normalizedName`. */
export function imageRecordFile(storeRoot: string, normalizedName: string): string {
  return path.join(imageRecordsDir(storeRoot), `${sha256Hex(normalizedName)}.json`);
}

/** Looks an image up by any reference form (`nginx`, `docker.io/library/nginx:latest`) or by (a prefix of) its id. */
export function findImageRecord(storeRoot: string, ref: string): ImageRecord | undefined {
  const byId = IMAGE_ID_RE.exec(ref);
  // A full id is never a valid name (Docker refuses 64-hex repository names), so look it up first.
  if (byId && (ref.startsWith('sha256:') || byId[1]!.length === 64)) return findById(storeRoot, byId[1]!);
  const record = readImageRecord(imageRecordFile(storeRoot, normalizeImageReference(ref)));
  if (record || !byId) return record;
  return findById(storeRoot, byId[1]!);
}

function findById(storeRoot: string, hexPrefix: string): ImageRecord | undefined {
  const matches = listImageRecords(storeRoot).filter((r) => r.id.slice('sha256:'.length).startsWith(hexPrefix));
  const ids = new Set(matches.map((r) => r.id));
  if (ids.size > 1) throw new UserError('EAMBIGUOUS', `image id prefix ${hexPrefix} matches ${ids.size} images`);
  return matches[0];
}

/** Every image of the store, by name. */
export function listImageRecords(storeRoot: string): ImageRecord[] {
  const dir = imageRecordsDir(storeRoot);
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromNodeError('image.list', err, `read "${dir}"`);
  }
  const records: ImageRecord[] = [];
  for (const file of files.filter((f) => /^[a-f0-9]{64}\.json$/.test(f))) {
    const record = readImageRecord(path.join(dir, file));
    if (record) records.push(record);
  }
  return records.sort((a, b) => compareStrings(a.name, b.name));
}

/** One record; undefined when there is none. */
export function readImageRecord(file: string): ImageRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeError('image.readRecord', err, `read "${file}"`);
  }
  return JSON.parse(text) as ImageRecord;
}
