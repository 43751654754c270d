/**
 * A random (version 4) UUID, as crypto.randomUUID() makes one, from 16 bytes of /dev/urandom: `podns run` names
 * each pod's uid this way without loading node:crypto (~5 ms of its start-up).
 */
const fs = process.getBuiltinModule('node:fs');

export function randomUuid(): string {
  const bytes = Buffer.alloc(16);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    fs.readSync(fd, bytes, 0, 16, null);
  } finally {
    fs.closeSync(fd);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
