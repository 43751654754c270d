import { describe, expect, it } from 'vitest';
import { criMounts } from '../../../src/cri/container-config.js';
import { CriError } from '../../../src/cri/cri-error.js';
import type { Mount } from '../../../src/cri/messages.js';

const mount = (over: Partial<Mount>): Mount => ({
  container_path: '/mnt',
  host_path: '/srv/x',
  readonly: false,
  selinux_relabel: false,
  propagation: 'PROPAGATION_PRIVATE',
  uidMappings: [],
  gidMappings: [],
  recursive_read_only: false,
  image: null,
  image_sub_path: '',
  mount_options: [],
  ...over,
});

/** The CriError a call throws: its code and message. */
function refusal(call: () => unknown): { code: string; message: string } {
  try {
    call();
  } catch (err) {
    if (err instanceof CriError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('no error');
}

describe('CRI mounts', () => {
  it('each propagation as the runtime takes it; read-only and recursive read-only', () => {
    expect(criMounts([mount({}), mount({ propagation: 'PROPAGATION_HOST_TO_CONTAINER' }), mount({ propagation: 'PROPAGATION_BIDIRECTIONAL' })]).map((m) => m.propagation)).toEqual([undefined, 'hostToContainer', 'bidirectional']);
    expect(criMounts([mount({ readonly: true, recursive_read_only: true })])[0]).toMatchObject({ readonly: true, recursiveReadOnly: 'Enabled' });
  });

  it("refuses what containerd refuses, with its words: recursive read-only on a read-write or non-private mount", () => {
    expect(refusal(() => criMounts([mount({ recursive_read_only: true })]))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'mount /mnt: recursive read-only mount conflicts with a read-write mount (host_path "/srv/x")',
    });
    expect(refusal(() => criMounts([mount({ readonly: true, recursive_read_only: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' })]))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'mount /mnt: recursive read-only mount needs private propagation, got PROPAGATION_HOST_TO_CONTAINER (host_path "/srv/x")',
    });
  });

  it('image volumes are UNIMPLEMENTED (critest then skips its image volume cases), a relative path INVALID_ARGUMENT', () => {
    expect(refusal(() => criMounts([mount({ image: { image: 'busybox', annotations: {}, user_specified_image: '', runtime_handler: '', image_ref: '' } })])).code).toBe('UNIMPLEMENTED');
    expect(refusal(() => criMounts([mount({ container_path: 'mnt' })]))).toEqual({ code: 'INVALID_ARGUMENT', message: 'mount: container_path "mnt" must be absolute' });
  });
});
