/**
 * Resolves a user spec (`nginx`, `101`, `101:101`, `www-data:adm`) to numeric ids the way runc does:
 * names are looked up in the image's /etc/passwd and /etc/group; a numeric uid need not exist; the
 * primary gid comes from passwd when no group is given; the groups are the primary one and those listing the user.
 */
import path from 'node:path';
import { PodnsError } from '../errors.js';
// Not `import fs from 'node:fs'`: that ESM import loads fs/promises, streams and readline (~2 ms of every CLI start).
const fs = process.getBuiltinModule('node:fs');

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home?: string;
}

/** Reads a file from the image: the topmost layer that has it wins (overlayfs semantics, whiteouts aside). */
function readFromLayers(layers: string[], file: string): string | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    try {
      return fs.readFileSync(path.join(layers[i]!, file), 'utf8');
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

function parseColonFile(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function resolveUser(spec: string | undefined, layers: string[], what: string): ResolvedUser {
  const passwd = parseColonFile(readFromLayers(layers, 'etc/passwd'));
  const groupFile = parseColonFile(readFromLayers(layers, 'etc/group'));
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2);
  const user = userPart === '' ? '0' : userPart;

  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  let home: string | undefined;
  const byName = passwd.find((f) => f[0] === user);
  const byId = /^\d+$/.test(user) ? passwd.find((f) => f[2] === user) : undefined;
  const entry = byName ?? byId;
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    name = entry[0];
    home = entry[5];
  } else if (/^\d+$/.test(user)) {
    uid = Number(user);
    gid = 0;
  } else {
    throw new PodnsError('container.resolveUser', `${what}: unable to find user ${user}: no matching entries in passwd file`);
  }

  if (groupPart !== undefined && groupPart !== '') {
    const g = groupFile.find((f) => f[0] === groupPart) ?? (/^\d+$/.test(groupPart) ? undefined : null);
    if (g === null) {
      throw new PodnsError('container.resolveUser', `${what}: unable to find group ${groupPart}: no matching entries in group file`);
    }
    gid = g ? Number(g[2]) : Number(groupPart);
  }
  const groups = name
    ? groupFile.filter((f) => (f[3] ?? '').split(',').includes(name!)).map((f) => Number(f[2]))
    : [];
  // The primary group leads the list, as containerd passes it (so `id` shows it among the groups).
  const primary = gid ?? 0;
  return { uid, gid: primary, groups: [...new Set([primary, ...groups])], home };
}
