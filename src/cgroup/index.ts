/**
 * cgroup: one interface (CgroupDriver), a v2 driver (unified hierarchy) and a v1 driver (one hierarchy per
 * controller), chosen by what the host mounts; kubelet's mapping of Pod resources to cgroup limits
 * (resources.ts, pure). Every driver is file-based under a root path, so unit tests use a temp dir for cgroupfs.
 * May import: manifest (types), errors, log, node:fs. Nothing above it (runtime, kubelet, supervisor, cli) is imported here.
 */
export * from './resources.js';
export * from './layout.js';
export * from './driver.js';
export { CgroupV1 } from './v1.js';
export { CgroupV2 } from './v2.js';
export { openCgroupDriver } from './open-driver.js';
export { buildDeviceFilter } from './device-filter.js';
