/** Paths inside the podns checkout (dist/ sits beside build/ and native/), whatever the cwd. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// This file is src/sys/project-path.ts, compiled to dist/sys/project-path.js: two levels below the root.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function projectPath(relative: string): string {
  return path.join(root, relative);
}
