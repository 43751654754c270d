/**
 * dist/vendor/yaml.js (scripts/bundle-vendor.mjs) is what the built CLI parses manifests with; vitest runs src/
 * against the yaml package. This checks that the bundle is there after a build, that dist's manifest code
 * loads it, and that it reads every corpus manifest exactly as the package does: values, errors, warnings and
 * their positions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as yamlPackage from 'yaml';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const bundleFile = path.join(repo, 'dist', 'vendor', 'yaml.js');
const built = fs.existsSync(path.join(repo, 'dist', 'manifest', 'yaml.js'));
const corpus = path.join(import.meta.dirname, 'corpus');

function read(api: typeof yamlPackage, text: string) {
  const lineCounter = new api.LineCounter();
  return api.parseAllDocuments(text, { lineCounter, prettyErrors: true }).map((doc) => ({
    value: valueOf(doc),
    errors: doc.errors.map((e) => [e.code, e.message, e.linePos]),
    warnings: doc.warnings.map((e) => [e.code, e.message, e.linePos]),
  }));
}

/** The document's value, or what toJS throws (an alias without its anchor). */
function valueOf(doc: yamlPackage.Document.Parsed): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

describe.skipIf(!built)('the bundled yaml of the build', () => {
  it('is there, and dist/manifest/yaml.js loads it, not the package', async () => {
    expect(fs.existsSync(bundleFile)).toBe(true);
    const bundle = await import(pathToFileURL(bundleFile).href);
    const { yaml } = await import(pathToFileURL(path.join(repo, 'dist', 'manifest', 'yaml.js')).href);
    expect(yaml).toBe(bundle);
  });

  it('reads every corpus manifest and the examples as the package does', async () => {
    const bundle = (await import(pathToFileURL(bundleFile).href)) as typeof yamlPackage;
    const files = [...fs.readdirSync(corpus).map((f) => path.join(corpus, f)), ...fs.readdirSync(path.join(repo, 'examples')).map((f) => path.join(repo, 'examples', f))];
    expect(files.length).toBeGreaterThan(50);
    for (const file of files.filter((f) => /\.ya?ml$/.test(f))) {
      const text = fs.readFileSync(file, 'utf8');
      expect(read(bundle, text), file).toEqual(read(yamlPackage, text));
    }
  });
});
