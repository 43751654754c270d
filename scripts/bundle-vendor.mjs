// Bundles the yaml package into one file, dist/vendor/yaml.js, after tsc. Every command that reads a manifest
// loads yaml; as the package ships it that is 72 CommonJS modules, ~15 ms of `podns run`'s start-up on the
// machines we measure, and as one ESM file ~5 ms. src/manifest/yaml.ts loads the bundle when it is there and
// the package otherwise (vitest runs src/ against the package). The bundle is yaml's own ESM build
// (browser/dist: the same code, without the CommonJS `require('process')`), unminified.
import { build } from 'esbuild';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const yamlPackage = path.dirname(createRequire(import.meta.url).resolve('yaml/package.json'));
await build({
  entryPoints: [path.join(yamlPackage, 'browser', 'dist', 'index.js')],
  outfile: path.join(repo, 'dist', 'vendor', 'yaml.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  legalComments: 'inline',
  logLevel: 'warning',
});
