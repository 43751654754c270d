/**
 * What a container may no longer do (issue 3), proved by running a static probe inside pods: default
 * confinement (runtime default capabilities, RuntimeDefault seccomp, masked and read-only /proc and /sys
 * paths, nodev), privileged containers, and the securityContext fields. Requires: root, gcc (static libc),
 * the native build, dist/, the test images (see harness.ts).
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodns, findLeaks, kernelSkip, podName, projectRoot, type Podns, pinOf } from './harness.js';

const BUSYBOX = 'yauritux/busybox-curl';

describe.skipIf(kernelSkip)('container confinement', () => {
  let podns: Podns;
  let probe: string;
  const pods: string[] = [];

  beforeAll(async () => {
    podns = await createPodns();
    probe = path.join(podns.root, 'probe');
    await execa('gcc', ['-static', '-O2', '-o', probe, path.join(projectRoot, 'test/kernel/fixtures/probe.c')]);
    fs.writeFileSync(path.join(podns.root, 'empty.ko'), '');
  });
  afterAll(async () => {
    for (const pod of pods) await podns.run(['rm', '-f', pod]);
    expect(findLeaks(podns.root, pods)).toEqual([]);
    await podns.dispose();
  });

  /** A one-container pod with the probe at /probe; `extra` is indented YAML for the container. */
  async function startPod(base: string, extra = '', podExtra = ''): Promise<string> {
    const name = podName(base);
    pods.push(name);
    const yaml = `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
${podExtra}  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts:
    - {name: probe, mountPath: /probe, readOnly: true}
    - {name: ko, mountPath: /empty.ko, readOnly: true}
    - {name: scratch, mountPath: /scratch}
${extra}  volumes:
  - {name: probe, hostPath: {path: ${probe}, type: File}}
  - {name: ko, hostPath: {path: ${path.join(podns.root, 'empty.ko')}, type: File}}
  - {name: scratch, emptyDir: {}}
`;
    await podns.ok(['run', podns.writeManifest(name, yaml)]);
    return name;
  }
  /** The probe run by podns itself on the host: what root outside any container gets. */
  const hostProbe = (...args: string[]) => {
    const r = spawnSync(probe, args, { encoding: 'utf8' });
    return r.stdout.trim();
  };
  const run = async (pod: string, ...cmd: string[]) => {
    const r = await podns.run(['exec', pod, '--', ...cmd]);
    return String(r.stdout).trim() + String(r.stderr).trim();
  };

  describe('a default container (root, no securityContext)', () => {
    let pod: string;
    beforeAll(async () => {
      pod = await startPod('conf-default');
    });

    it('has exactly the runtime default capabilities (0xa80425fb) in every set but ambient, and RuntimeDefault seccomp', async () => {
      const status = await run(pod, 'grep', '-E', '^(Cap|NoNewPrivs|Seccomp:)', '/proc/self/status');
      expect(status).toContain('CapInh:\t00000000a80425fb');
      expect(status).toContain('CapPrm:\t00000000a80425fb');
      expect(status).toContain('CapEff:\t00000000a80425fb');
      expect(status).toContain('CapBnd:\t00000000a80425fb');
      expect(status).toContain('CapAmb:\t0000000000000000');
      expect(status).toContain('NoNewPrivs:\t0');
      expect(status).toContain('Seccomp:\t2');
    });

    it.each([
      ['mount a tmpfs', ['mount-tmpfs', '/scratch'], 'EPERM'],
      ['unshare a mount namespace', ['unshare-mnt'], 'EPERM'],
      ['unshare a user namespace', ['unshare-user'], 'EPERM'],
      ['load a kernel module', ['init-module', '/empty.ko'], 'EPERM'],
      ['add a key to a kernel keyring', ['add-key'], 'EPERM'],
      ['call reboot(2)', ['reboot-cad-off'], 'EPERM'],
      ['write /sys', ['write', '/sys/kernel/mm/ksm/run'], 'EROFS'],
      ['write /proc/sys', ['write', '/proc/sys/kernel/domainname'], 'EROFS'],
    ])('cannot %s', async (_what, args, errno) => {
      expect(await run(pod, '/probe', ...args)).toBe(errno);
    });

    it('cannot open a device it made with mknod, though podns itself can (nodev: EACCES; runc, with its device cgroup, says EPERM)', async () => {
      // /dev/kmsg (c 1:11) is one the host lets root open here; a disk may be refused even to the host's root.
      expect(hostProbe('open', '/dev/kmsg')).toBe('ok');
      for (const dir of ['/tmp', '/scratch', '/dev']) {
        expect(await run(pod, 'sh', '-c', `mknod ${dir}/kmsg2 c 1 11 && /probe open ${dir}/kmsg2`), dir).toBe('EACCES');
      }
      const disk = fs.existsSync('/dev/vda') ? fs.statSync('/dev/vda') : fs.statSync('/dev/sda');
      expect(await run(pod, 'sh', '-c', `mknod /tmp/disk b ${Math.floor(disk.rdev / 256)} ${disk.rdev % 256} && /probe open /tmp/disk`)).toBe('EACCES');
      // The standard devices still work.
      expect(await run(pod, 'sh', '-c', 'head -c 4 /dev/urandom | wc -c')).toBe('4');
    });

    it('sees masked paths empty and read-only paths read-only', async () => {
      for (const file of ['/proc/keys', '/proc/timer_list', '/proc/kcore', '/proc/sched_debug']) {
        if (!fs.existsSync(file)) continue; // this kernel may not have it
        expect(await run(pod, 'sh', '-c', `wc -c < ${file}`), file).toBe('0');
      }
      for (const dir of ['/proc/acpi', '/sys/firmware', '/proc/scsi']) {
        if (!fs.existsSync(dir)) continue;
        expect(await run(pod, 'ls', '-A', dir), dir).toBe('');
      }
      if (fs.existsSync('/proc/sysrq-trigger')) expect(await run(pod, '/probe', 'write', '/proc/sysrq-trigger')).toBe('EROFS');
      const mounts = await run(pod, 'cat', '/proc/mounts');
      for (const ro of ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys']) expect(mounts).toMatch(new RegExp(`proc ${ro} proc ro,`));
      expect(mounts).toMatch(/sysfs \/sys sysfs ro,/);
    });

    it('an exec session is confined like the container', async () => {
      const status = await run(pod, 'grep', '-E', '^(CapEff|Seccomp:)', '/proc/self/status');
      expect(status).toContain('CapEff:\t00000000a80425fb');
      expect(status).toContain('Seccomp:\t2');
    });
  });

  describe('privileged: true', () => {
    let pod: string;
    beforeAll(async () => {
      pod = await startPod('conf-priv', '    securityContext: {privileged: true}\n');
    });

    it('has every capability podns itself has (as containerd gives them), no seccomp, unmasked /proc and a writable /sys', async () => {
      const status = await run(pod, 'grep', '-E', '^(CapEff|CapBnd|Seccomp:)', '/proc/self/status');
      const ours = fs.readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\t(\w+)$/m)![1];
      expect(status).toContain(`CapEff:\t${ours}`);
      expect(status).toContain(`CapBnd:\t${ours}`);
      expect(status).toContain('Seccomp:\t0');
      const mounts = await run(pod, 'cat', '/proc/mounts');
      expect(mounts).toMatch(/sysfs \/sys sysfs rw,/);
      expect(mounts).not.toMatch(/ \/proc\/sys proc ro/);
      expect(await run(pod, 'sh', '-c', 'wc -c < /proc/timer_list')).not.toBe('0');
    });

    it.each([
      ['mount a tmpfs', ['mount-tmpfs', '/scratch']],
      ['unshare a mount namespace', ['unshare-mnt']],
      ['unshare a user namespace', ['unshare-user']],
      ['add a key to a kernel keyring', ['add-key']],
    ])('can %s', async (_what, args) => {
      expect(await run(pod, '/probe', ...args)).toBe('ok');
    });

    it('gets past the capability check of reboot(2): in its own PID namespace the kernel then says EINVAL', async () => {
      expect(await run(pod, '/probe', 'reboot-cad-off')).toBe('EINVAL');
    });

    it('gets past the capability check to load a module (the empty file is then refused as no module)', async () => {
      expect(await run(pod, '/probe', 'init-module', '/empty.ko')).not.toBe('EPERM');
    });

    it("has the host's devices and opens them as the host's root does", async () => {
      const disk = fs.existsSync('/dev/vda') ? '/dev/vda' : '/dev/sda';
      for (const dev of ['/dev/kmsg', disk]) expect(await run(pod, '/probe', 'open', dev), dev).toBe(hostProbe('open', dev));
      expect(await run(pod, 'sh', '-c', 'mknod /tmp/kmsg2 c 1 11 && /probe open /tmp/kmsg2')).toBe('ok');
    });
  });

  describe('securityContext', () => {
    it('runAsUser/runAsGroup/supplementalGroups/fsGroup are what id shows; a non-root user has no effective capabilities', async () => {
      const pod = await startPod(
        'conf-user',
        '    securityContext: {runAsUser: 1000, runAsGroup: 3000}\n',
        '  securityContext: {supplementalGroups: [4000], fsGroup: 2000}\n',
      );
      expect(await run(pod, 'id')).toBe('uid=1000 gid=3000 groups=2000,3000,4000');
      const status = await run(pod, 'grep', '-E', '^Cap(Eff|Prm|Bnd)', '/proc/self/status');
      expect(status).toContain('CapEff:\t0000000000000000');
      expect(status).toContain('CapPrm:\t0000000000000000');
      expect(status).toContain('CapBnd:\t00000000a80425fb');
      // fsGroup owns the emptyDir with setgid, so files made there belong to it.
      expect(await run(pod, 'sh', '-c', 'touch /scratch/f && stat -c %g /scratch/f')).toBe('2000');
    });

    it('the container securityContext overrides the pod one', async () => {
      const pod = await startPod('conf-prec', '    securityContext: {runAsUser: 7}\n', '  securityContext: {runAsUser: 5, runAsGroup: 6}\n');
      expect(await run(pod, 'id', '-u')).toBe('7');
      expect(await run(pod, 'id', '-g')).toBe('6');
    });

    it('capabilities drop ALL, add NET_BIND_SERVICE: exactly that one; allowPrivilegeEscalation false sets no_new_privs', async () => {
      const pod = await startPod(
        'conf-caps',
        '    securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}, allowPrivilegeEscalation: false}\n',
      );
      const status = await run(pod, 'grep', '-E', '^(CapEff|CapBnd|NoNewPrivs)', '/proc/self/status');
      expect(status).toContain('CapEff:\t0000000000000400');
      expect(status).toContain('CapBnd:\t0000000000000400');
      expect(status).toContain('NoNewPrivs:\t1');
    });

    it('readOnlyRootFilesystem makes / read-only but volumes stay writable', async () => {
      const pod = await startPod('conf-ro', '    securityContext: {readOnlyRootFilesystem: true}\n');
      expect(await run(pod, '/probe', 'write', '/etc/passwd')).toBe('EROFS');
      expect(await run(pod, 'sh', '-c', 'touch /newfile 2>&1 | grep -o "Read-only file system"')).toBe('Read-only file system');
      expect(await run(pod, 'sh', '-c', 'echo hi > /scratch/x && cat /scratch/x')).toBe('hi');
    });

    it('namespaced sysctls are set in the pod, not on the host', async () => {
      const before = fs.readFileSync('/proc/sys/kernel/shm_rmid_forced', 'utf8').trim();
      const pod = await startPod(
        'conf-sysctl',
        '',
        '  securityContext: {sysctls: [{name: kernel.shm_rmid_forced, value: "1"}, {name: net.ipv4.ip_unprivileged_port_start, value: "0"}]}\n',
      );
      expect(await run(pod, 'cat', '/proc/sys/kernel/shm_rmid_forced')).toBe('1');
      expect(await run(pod, 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start')).toBe('0');
      expect(fs.readFileSync('/proc/sys/kernel/shm_rmid_forced', 'utf8').trim()).toBe(before);
    });

    it("runAsNonRoot refuses an image that runs as root, with kubelet's message, and creates nothing", async () => {
      const name = podName('conf-nonroot');
      const file = podns.writeManifest(
        name,
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - {name: c, image: ${BUSYBOX}, command: [sleep, "1"]}\n`,
      );
      const { stderr, exitCode } = await podns.fails(['run', file]);
      expect(exitCode).toBe(1);
      expect(stderr.trim()).toMatch(new RegExp(`^podns: container has runAsNonRoot and image will run as root \\(pod: "${name}_default\\([0-9a-f-]+\\)", container: c\\)$`));
      expect(fs.existsSync(pinOf(podns.root, name))).toBe(false);
      for (const d of ['run', 'lib']) expect(fs.existsSync(path.join(podns.root, d, 'pods', name))).toBe(false);
    });
  });
});
