/** The driver for a recorded layout: what teardown and stats use, from state.json alone. */
import type { DriverOptions, CgroupDriver } from './driver.js';
import type { CgroupLayout } from './layout.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2 } from './v2.js';

export function openCgroupDriver(layout: CgroupLayout, options: DriverOptions = {}): CgroupDriver {
  return layout.version === 2 ? new CgroupV2(layout, options) : new CgroupV1(layout, options);
}
