import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { criConfinement, criMounts, criUser, profileOfPath } from '../../../src/cri/container-config.js';
import { CriError } from '../../../src/cri/cri-error.js';
import type { LinuxContainerSecurityContext, Mount } from '../../../src/cri/messages.js';
import type { ImageRecord } from '../../../src/image/types.js';

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

  it('mount options: noexec, nodev and nosuid; anything else INVALID_ARGUMENT', () => {
    expect(criMounts([mount({ mount_options: ['noexec', 'nosuid'] })])[0]!.options).toEqual(['noexec', 'nosuid']);
    expect(refusal(() => criMounts([mount({ mount_options: ['exec'] })]))).toEqual({ code: 'INVALID_ARGUMENT', message: 'mount /mnt: mount option "exec" is not supported (noexec, nodev and nosuid are)' });
  });

  it('image volumes are UNIMPLEMENTED (critest then skips its image volume cases), a relative path INVALID_ARGUMENT', () => {
    expect(refusal(() => criMounts([mount({ image: { image: 'busybox', annotations: {}, user_specified_image: '', runtime_handler: '', image_ref: '' } })])).code).toBe('UNIMPLEMENTED');
    expect(refusal(() => criMounts([mount({ container_path: 'mnt' })]))).toEqual({ code: 'INVALID_ARGUMENT', message: 'mount: container_path "mnt" must be absolute' });
  });

  it("a mount's own uid/gid mappings: taken when they are the pod's user namespace mapping, refused otherwise", () => {
    const userns = { uidBase: 131072, gidBase: 196608, size: 65536 };
    const pods = { uidMappings: [{ container_id: 0, host_id: 131072, length: 65536 }], gidMappings: [{ container_id: 0, host_id: 196608, length: 65536 }] };
    expect(criMounts([mount(pods)], userns)).toHaveLength(1);
    const message = 'mount /mnt: idmapped mounts other than with the pod\'s own user namespace mapping are not supported';
    expect(refusal(() => criMounts([mount(pods)]))).toEqual({ code: 'INVALID_ARGUMENT', message });
    expect(refusal(() => criMounts([mount({ ...pods, gidMappings: pods.uidMappings })], userns))).toEqual({ code: 'INVALID_ARGUMENT', message });
    expect(refusal(() => criMounts([mount({ ...pods, uidMappings: [{ container_id: 0, host_id: 131072, length: 1000 }] })], userns))).toEqual({ code: 'INVALID_ARGUMENT', message });
  });
});

describe('CRI users, as containerd combines the fields', () => {
  const layer = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-cri-user-'));
  fs.mkdirSync(path.join(layer, 'etc'));
  fs.writeFileSync(path.join(layer, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\n');
  fs.writeFileSync(path.join(layer, 'etc', 'group'), 'root:x:0:\nweb:x:1000:\nextra:x:50000:web\n');
  const image = { name: 'i', id: 'sha256:i', layers: [layer], config: { User: 'web' }, created: '', size: 0 } as unknown as ImageRecord;
  const sc = (over: Partial<LinuxContainerSecurityContext>) => ({ supplemental_groups: [], supplemental_groups_policy: 'Merge', ...over }) as unknown as LinuxContainerSecurityContext;
  afterAll(() => fs.rmSync(layer, { recursive: true, force: true }));

  it("the image's user, its groups from /etc/group, then the supplemental groups (Merge)", () => {
    expect(criUser(sc({ supplemental_groups: ['1234'] }), image, 'c')).toEqual({ uid: 1000, gid: 1000, groups: [1000, 50000, 1234], home: '/home/web' });
  });
  it("Strict: only the primary group and the supplemental ones", () => {
    expect(criUser(sc({ supplemental_groups: ['1234'], supplemental_groups_policy: 'Strict' }), image, 'c').groups).toEqual([1000, 1234]);
  });
  it('run_as_username wins over run_as_user; run_as_group goes with either', () => {
    expect(criUser(sc({ run_as_username: 'root', run_as_user: { value: '1000' } }), image, 'c')).toMatchObject({ uid: 0, gid: 0 });
    expect(criUser(sc({ run_as_user: { value: '1001' }, run_as_group: { value: '1002' } }), image, 'c')).toMatchObject({ uid: 1001, gid: 1002 });
  });
  it('run_as_group alone is INVALID_ARGUMENT', () => {
    expect(refusal(() => criUser(sc({ run_as_group: { value: '1002' } }), image, 'container "c"'))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'container "c": run_as_group 1002 is set without run_as_user or run_as_username',
    });
  });
});

describe('deprecated profile paths', () => {
  it('as containerd reads them', () => {
    expect(profileOfPath('', 'f')).toBeNull();
    expect(profileOfPath('runtime/default', 'f')?.profile_type).toBe('RuntimeDefault');
    expect(profileOfPath('docker/default', 'f')?.profile_type).toBe('RuntimeDefault');
    expect(profileOfPath('unconfined', 'f')?.profile_type).toBe('Unconfined');
    expect(profileOfPath('localhost//p.json', 'f')).toEqual({ profile_type: 'Localhost', localhost_ref: '/p.json' });
    expect(refusal(() => profileOfPath('nope', 'seccomp_profile_path')).code).toBe('INVALID_ARGUMENT');
  });
  it('the field wins over the deprecated path; an AppArmor profile by name is refused either way', () => {
    const base = { masked_paths: [], readonly_paths: [], capabilities: null, privileged: false, apparmor: null, apparmor_profile: '', seccomp: null, seccomp_profile_path: '' };
    const conf = (over: object) => criConfinement({ ...base, ...over } as unknown as LinuxContainerSecurityContext, ['CAP_CHOWN']);
    expect(conf({ seccomp_profile_path: 'runtime/default' }).seccomp).toEqual({ type: 'RuntimeDefault' });
    expect(conf({ seccomp: { profile_type: 'Unconfined', localhost_ref: '' }, seccomp_profile_path: 'runtime/default' }).seccomp).toBeUndefined();
    expect(refusal(() => conf({ apparmor_profile: 'localhost/deny-write' })).message).toMatch(/podns does not use AppArmor/);
    expect(refusal(() => conf({ apparmor: { profile_type: 'Localhost', localhost_ref: 'deny-write' } })).message).toMatch(/podns does not use AppArmor/);
  });
});
