/**
 * The yaml package as podns loads it: the one-file bundle scripts/bundle-vendor.mjs makes at build time
 * (dist/vendor/yaml.js, ~10 ms less start-up for every command that reads a manifest), else the package itself
 * (vitest runs src/, where no bundle is). Both are yaml's own code; its node type checks (isMap, …) go by
 * Symbol.for() keys, so values of either are understood by the other.
 */
import type * as Yaml from 'yaml';

const bundle = new URL('../vendor/yaml.js', import.meta.url);
export const yaml: typeof Yaml = process.getBuiltinModule('node:fs').existsSync(bundle) ? await import(bundle.href) : await import('yaml');
