import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, renderPodFields } from '../../../scripts/gen-pod-fields.ts';
import { ALL_SCHEMAS } from '../../../src/manifest/pod-schema.js';

describe('docs/pod-fields.md', () => {
  it('matches the field table (regenerate with `node scripts/gen-pod-fields.ts`)', () => {
    expect(readFileSync(DOC_PATH, 'utf8')).toBe(renderPodFields());
  });

  it('lists every field of every object podns reads', () => {
    const doc = renderPodFields();
    for (const schema of ALL_SCHEMAS) {
      for (const name of Object.keys(schema.fields)) expect(doc).toContain(`| \`${name}\` |`);
    }
  });
});
