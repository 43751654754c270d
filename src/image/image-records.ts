/**
 * The store's image records, `<store>/images/<sha256 of the name>.json`, read without the rest of the store:
 * `podns images` loads this module alone (the store's unpacking, archives and locks cost start-up time). The
 * reads are synchronous: a record is a small file, and node:fs/promises alone costs ~1 ms to load.
 */
import path from 'node:path';
import { fromNodeError } from '../errors.js';
import type { ImageRecord } from './types.js';

const fs = process.getBuiltinModule('node:fs');

/** Where a store rooted at `storeRoot` keeps its records. */
export function imageRecordsDir(storeRoot: string): string {
  return path.join(storeRoot, 'images');
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
  return records.sort((a, b) => a.name.localeCompare(b.name));
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
