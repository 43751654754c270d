import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNTIME_DEFAULT_PROFILE } from '../../../src/security/seccomp-default.js';
import { loadLocalhostProfile, resolveProfile, seccompFilterFor } from '../../../src/security/seccomp-profile.js';
import { buildSeccompFilter, type SeccompFilterSpec } from '../../../src/sys/native.js';

const DEFAULT_CAPS = new Set(['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE']);
const rulesFor = (spec: SeccompFilterSpec, name: string) => spec.syscalls.filter((s) => s.names.includes(name));

describe('resolveProfile (RuntimeDefault)', () => {
  it('allows mount, unshare and any clone only with CAP_SYS_ADMIN', () => {
    const without = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS);
    expect(rulesFor(without, 'mount')).toEqual([]);
    expect(rulesFor(without, 'unshare')).toEqual([]);
    const clone = rulesFor(without, 'clone');
    expect(clone).toEqual([
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 2114060288, valueTwo: 0 }] },
    ]);
    expect(rulesFor(without, 'clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errno: 38 }]);

    const admin = resolveProfile(RUNTIME_DEFAULT_PROFILE, new Set([...DEFAULT_CAPS, 'SYS_ADMIN']));
    expect(rulesFor(admin, 'mount')).toHaveLength(1);
    expect(rulesFor(admin, 'clone').every((r) => !r.args)).toBe(true);
    expect(rulesFor(admin, 'clone3').map((r) => r.action)).toEqual(['SCMP_ACT_ALLOW']);
  });

  it('accepts capability names with or without CAP_', () => {
    const a = resolveProfile(RUNTIME_DEFAULT_PROFILE, new Set(['CAP_SYS_PTRACE']));
    const b = resolveProfile(RUNTIME_DEFAULT_PROFILE, new Set(['sys_ptrace']));
    expect(rulesFor(a, 'kcmp')).toHaveLength(1);
    expect(b).toEqual(a);
  });

  it('keeps the default action, EPERM, and x86_64 with its x86 and x32 ABIs', () => {
    const spec = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS);
    expect(spec.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(spec.defaultErrno).toBe(1);
    expect(spec.architectures).toEqual(['x86_64', 'x86', 'x32']);
  });

  it('picks rules by architecture', () => {
    const amd64 = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS, 'x86_64');
    expect(rulesFor(amd64, 'arch_prctl')).toHaveLength(1);
    expect(rulesFor(amd64, 'set_tls')).toEqual([]);
    const arm64 = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS, 'aarch64');
    expect(rulesFor(arm64, 'arch_prctl')).toEqual([]);
    expect(rulesFor(arm64, 'set_tls')).toHaveLength(1);
    expect(arm64.architectures).toEqual(['aarch64', 'arm']);
    const s390x = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS, 's390x');
    expect(rulesFor(s390x, 'clone')[0]?.args?.[0]?.index).toBe(1);
  });

  it('honours minKernel', () => {
    const old = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS, 'x86_64', '4.4.0-generic');
    expect(rulesFor(old, 'ptrace')).toEqual([]);
    const recent = resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS, 'x86_64', '4.19.2');
    expect(rulesFor(recent, 'ptrace')).toHaveLength(1);
  });
});

describe('loadLocalhostProfile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  function libRoot(files: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-seccomp-'));
    dirs.push(root);
    fs.mkdirSync(path.join(root, 'seccomp'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, 'seccomp', name)), { recursive: true });
      fs.writeFileSync(path.join(root, 'seccomp', name), text);
    }
    return root;
  }

  it('reads a Docker profile under <root>/seccomp', () => {
    const root = libRoot({ 'profiles/audit.json': JSON.stringify({ defaultAction: 'SCMP_ACT_LOG' }) });
    expect(loadLocalhostProfile(root, 'profiles/audit.json')).toEqual({ defaultAction: 'SCMP_ACT_LOG' });
  });

  it('refuses a path that escapes the seccomp directory', () => {
    const root = libRoot({});
    fs.writeFileSync(path.join(root, 'outside.json'), '{"defaultAction":"SCMP_ACT_ALLOW"}');
    expect(() => loadLocalhostProfile(root, '../outside.json')).toThrow(/^seccomp profile "\.\.\/outside\.json": escapes /);
    expect(() => loadLocalhostProfile(root, '/etc/passwd')).toThrow(/^seccomp profile "\/etc\/passwd": must be a path relative/);
    fs.symlinkSync('../outside.json', path.join(root, 'seccomp', 'link.json'));
    expect(() => loadLocalhostProfile(root, 'link.json')).toThrow(/escapes .* through a symlink/);
  });

  it('reports bad JSON, a bad shape and a missing file in one line', () => {
    const root = libRoot({ 'bad.json': '{"defaultAction": ', 'shape.json': '{"syscalls": []}' });
    for (const [file, why] of [
      ['bad.json', /^seccomp profile "bad\.json": invalid JSON: /],
      ['shape.json', /^seccomp profile "shape\.json": defaultAction must be a string$/],
      ['none.json', /^seccomp profile "none\.json": .*none\.json: no such file or directory \(ENOENT\)$/],
    ] as const) {
      let message = '';
      try {
        loadLocalhostProfile(root, file);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(why);
      expect(message).not.toContain('\n');
    }
  });
});

describe('seccompFilterFor', () => {
  it('gives no filter for Unconfined and RuntimeDefault when no profile is set', () => {
    const seen: SeccompFilterSpec[] = [];
    const build = (p: SeccompFilterSpec) => (seen.push(p), Buffer.alloc(8));
    expect(seccompFilterFor({ type: 'Unconfined' }, DEFAULT_CAPS, '/nonexistent', build)).toBeUndefined();
    expect(seccompFilterFor(undefined, DEFAULT_CAPS, '/nonexistent', build)).toBeInstanceOf(Buffer);
    expect(seen[0]?.defaultAction).toBe('SCMP_ACT_ERRNO');
  });

  it('builds once per profile and capability set', () => {
    let builds = 0;
    const build = () => (builds++, Buffer.alloc(8));
    const a = seccompFilterFor({ type: 'RuntimeDefault' }, new Set(['KILL', 'CHOWN']), '/x', build);
    const b = seccompFilterFor({ type: 'RuntimeDefault' }, new Set(['CAP_CHOWN', 'KILL']), '/x', build);
    seccompFilterFor({ type: 'RuntimeDefault' }, new Set(['SYS_ADMIN']), '/x', build);
    expect(a).toBe(b);
    expect(builds).toBe(2);
  });

  it('names the Localhost profile when it cannot be compiled', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'podns-seccomp-'));
    try {
      fs.mkdirSync(path.join(root, 'seccomp'));
      fs.writeFileSync(path.join(root, 'seccomp', 'p.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_NOPE' }));
      expect(() => seccompFilterFor({ type: 'Localhost', localhostProfile: 'p.json' }, DEFAULT_CAPS, root)).toThrow(
        /^seccomp profile "p\.json": buildSeccompFilter: unknown action "SCMP_ACT_NOPE"$/,
      );
      expect(() => seccompFilterFor({ type: 'Localhost' }, DEFAULT_CAPS, root)).toThrow(/needs localhostProfile/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('buildSeccompFilter (addon, libseccomp)', () => {
  const BPF_LD_W_ABS = 0x20;
  const OFFSETOF_ARCH = 4; // struct seccomp_data { int nr; __u32 arch; ... }

  it('compiles RuntimeDefault into whole BPF instructions that first check the architecture', () => {
    const bpf = buildSeccompFilter(resolveProfile(RUNTIME_DEFAULT_PROFILE, DEFAULT_CAPS));
    expect(bpf).toBeInstanceOf(Buffer);
    expect(bpf.length % 8).toBe(0);
    expect(bpf.length / 8).toBeGreaterThan(100);
    expect(bpf.readUInt16LE(0)).toBe(BPF_LD_W_ABS);
    expect(bpf.readUInt32LE(4)).toBe(OFFSETOF_ARCH);
    // Compared against each ABI's audit arch: x86_64 (x32 shares it, with __X32_SYSCALL_BIT) and i386.
    const ks = Array.from({ length: bpf.length / 8 }, (_, i) => bpf.readUInt32LE(i * 8 + 4));
    expect(ks).toContain(0xc000003e); // AUDIT_ARCH_X86_64
    expect(ks).toContain(0x40000003); // AUDIT_ARCH_I386
    expect(ks).toContain(0x40000000); // __X32_SYSCALL_BIT
  });

  it('accepts 64-bit values as bigints and skips unknown syscall names', () => {
    const bpf = buildSeccompFilter({
      defaultAction: 'SCMP_ACT_KILL_PROCESS',
      syscalls: [
        { names: ['read', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errno: 22, args: [{ index: 0, op: 'SCMP_CMP_GT', value: 0xffff_ffff_ffffn }] },
      ],
    });
    expect(bpf.length % 8).toBe(0);
  });

  it('refuses an unknown action, op or architecture with a clear message', () => {
    expect(() => buildSeccompFilter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_BOGUS' }] })).toThrow(
      'buildSeccompFilter: syscalls[0].unknown action "SCMP_ACT_BOGUS"',
    );
    expect(() =>
      buildSeccompFilter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG', args: [{ index: 0, op: 'SCMP_CMP_XX', value: 1 }] }] }),
    ).toThrow('unknown op "SCMP_CMP_XX"');
    expect(() => buildSeccompFilter({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['vax'], syscalls: [] })).toThrow('unknown architecture "vax"');
    expect(() =>
      buildSeccompFilter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG', args: [{ index: 6, op: 'SCMP_CMP_EQ', value: 1 }] }] }),
    ).toThrow('index must be 0-5');
  });
});
