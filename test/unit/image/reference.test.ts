import { describe, it, expect } from 'vitest';
import { normalizeImageReference } from '../../../src/image/reference.js';
import { UserError } from '../../../src/errors.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('normalizeImageReference', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/library/nginx:latest', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['yauritux/busybox-curl', 'docker.io/yauritux/busybox-curl:latest'],
    ['a/b/c', 'docker.io/a/b/c:latest'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest'],
    ['host:5000/x', 'host:5000/x:latest'],
    ['host:5000/x:v1', 'host:5000/x:v1'],
    ['quay.io/coreos/etcd:v3.5', 'quay.io/coreos/etcd:v3.5'],
    ['Registry/x', 'Registry/x:latest'],
    ['[::1]:5000/x', '[::1]:5000/x:latest'],
    ['my_repo/a.b__c--d', 'docker.io/my_repo/a.b__c--d:latest'],
    [`nginx@${DIGEST}`, `docker.io/library/nginx@${DIGEST}`],
    [`nginx:1.25@${DIGEST}`, `docker.io/library/nginx:1.25@${DIGEST}`],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeImageReference(input)).toBe(expected);
  });

  it.each([
    [''],
    ['Nginx'],
    ['docker.io/Library/nginx'],
    ['nginx:'],
    ['nginx:-bad'],
    ['nginx:a/b'],
    ['-nginx'],
    ['nginx_'],
    ['a//b'],
    ['nginx@sha256:abc'],
    ['nginx@'],
    ['a'.repeat(64)],
    [`x/${'a'.repeat(260)}`],
    ['host:port/x'],
    ['has space'],
  ])('rejects %j with EBADREF', (input) => {
    let caught: unknown;
    try {
      normalizeImageReference(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe('EBADREF');
  });
});
