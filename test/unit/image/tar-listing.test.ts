import { describe, it, expect } from 'vitest';
import { findEscapingEntries, parseTarListing } from '../../../src/image/tar-listing.js';

describe('parseTarListing', () => {
  it('decodes C-quoted names, symlink and hard-link targets', () => {
    const listing = [
      'drwxr-xr-x 0/0               0 2024-01-01 00:00 "./"',
      '-rw-r--r-- 0/0               3 2024-01-01 00:00 "./a/x -> y"',
      '-rw-r--r-- 0/0               3 2024-01-01 00:00 "./q\\"uote\\nnl\\303\\251"',
      'crw-r--r-- 0/0             1,3 2024-01-01 00:00 "./dev/null"',
      'lrwxrwxrwx 0/0               0 2024-01-01 00:00 "./lib" -> "usr/lib"',
      'hrw-r--r-- 0/0               0 2024-01-01 00:00 "./h" link to "./a/x -> y"',
    ].join('\n');
    expect(parseTarListing(listing)).toEqual([
      { type: 'd', name: './' },
      { type: '-', name: './a/x -> y' },
      { type: '-', name: './q"uote\nnl\u00e9' },
      { type: 'c', name: './dev/null' },
      { type: 'l', name: './lib', target: 'usr/lib' },
      { type: 'h', name: './h', target: './a/x -> y' },
    ]);
  });
});

describe('findEscapingEntries', () => {
  it('flags absolute names, .. components and escaping hard links, not symlink targets', () => {
    const bad = findEscapingEntries([
      { type: '-', name: './ok' },
      { type: '-', name: '/etc/passwd' },
      { type: '-', name: './a/../../x' },
      { type: '-', name: './..dots-are-fine' },
      { type: 'l', name: './sl', target: '../../etc/shadow' },
      { type: 'h', name: './h', target: '../outside' },
    ]);
    expect(bad.map((e) => e.name)).toEqual(['/etc/passwd', './a/../../x', './h']);
  });
});
