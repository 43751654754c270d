/**
 * manifest/ — turns a Kubernetes Pod manifest (YAML or JSON, one or more documents) into validated,
 * defaulted PodManifest values, or a one-line `file:line: path: message` error. A leaf: imports only
 * `yaml`, Node built-ins and ../errors.
 */

export { loadManifests, parseManifests, type LoadedManifests } from './load-manifest.js';
export { parseQuantity } from './quantity.js';
export type * from './types.js';
