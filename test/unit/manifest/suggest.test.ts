import { describe, expect, it } from 'vitest';
import { CONTAINER, POD_SPEC } from '../../../src/manifest/pod-schema.js';
import { editDistance, suggestName } from '../../../src/manifest/suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['image', 'image', 0],
    ['imgae', 'image', 1],
    ['args', 'arg', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
  ])('%s → %s is %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe('suggestName', () => {
  const containerFields = Object.keys(CONTAINER.fields);
  const specFields = Object.keys(POD_SPEC.fields);

  it.each([
    ['workdir', containerFields, 'workingDir'],
    ['workingdir', containerFields, 'workingDir'],
    ['VolumeMounts', containerFields, 'volumeMounts'],
    ['imagePullPolicey', containerFields, 'imagePullPolicy'],
    ['comand', containerFields, 'command'],
    ['arg', containerFields, 'args'],
    ['enviroment', containerFields, undefined],
    ['container', specFields, 'containers'],
    ['volume', specFields, 'volumes'],
    ['hostname', specFields, undefined],
    ['xyz', specFields, undefined],
  ])('%s → %s', (name, candidates, expected) => {
    expect(suggestName(name as string, candidates as string[])).toBe(expected);
  });
});
