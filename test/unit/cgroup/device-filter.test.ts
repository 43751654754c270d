/**
 * The cgroup v2 device program: its exact instructions for one rule, and what it decides for runc's default
 * list, run by a small interpreter of the few eBPF instructions it uses (the kernel's verdict is in the VM test).
 */
import { describe, expect, it } from 'vitest';
import { buildDeviceFilter, deviceFilterInsns, OP, parseDeviceRule, type Insn } from '../../../src/cgroup/device-filter.js';
import { DEFAULT_DEVICE_RULES } from '../../../src/cgroup/resources.js';

const B = 1;
const C = 2;
const M = 1;
const R = 2;
const W = 4;

/** Runs the program on struct bpf_cgroup_dev_ctx { access_type = access << 16 | type, major, minor }. */
function run(insns: Insn[], type: number, access: number, major: number, minor: number): number {
  const ctx = [(access << 16) | type, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, dst, src, off, imm } = insns[pc]!;
    switch (code) {
      case OP.LDXW: r[dst] = ctx[off / 4]! >>> 0; break;
      case OP.AND32K: r[dst] = (r[dst]! & imm) >>> 0; break;
      case OP.RSH32K: r[dst] = r[dst]! >>> imm; break;
      case OP.MOV32X: r[dst] = r[src]! >>> 0; break;
      case OP.MOV64K: r[dst] = imm; break;
      case OP.JNEK: if (r[dst] !== imm) pc += off; break;
      case OP.JNEX: if (r[dst] !== r[src]) pc += off; break;
      case OP.EXIT: return r[0]!;
      default: throw new Error(`opcode ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end');
}

describe('device filter', () => {
  it('parses rules as devices.allow writes them', () => {
    expect(parseDeviceRule('c 1:3 rwm')).toEqual({ type: C, major: 1, minor: 3, access: 7 });
    expect(parseDeviceRule('c 136:* rw')).toEqual({ type: C, major: 136, access: 6 });
    expect(parseDeviceRule('b *:* m')).toEqual({ type: B, access: 1 });
    expect(parseDeviceRule('a')).toEqual({ access: 7 });
    expect(() => parseDeviceRule('x 1:1 r')).toThrow(/invalid device rule/);
  });

  it('encodes one rule as runc does: load the context, check type, major, minor, allow; deny at the end', () => {
    const bytes = buildDeviceFilter(['c 1:3 rwm']);
    expect(bytes.toString('hex').match(/.{16}/g)).toEqual([
      '6112000000000000', // r2 = *(u32 *)(r1 + 0)
      '54020000ffff0000', // w2 &= 0xffff            (type)
      '6113000000000000', // r3 = *(u32 *)(r1 + 0)
      '7403000010000000', // w3 >>= 16               (access)
      '6114040000000000', // r4 = *(u32 *)(r1 + 4)   (major)
      '6115080000000000', // r5 = *(u32 *)(r1 + 8)   (minor)
      '5502040002000000', // if r2 != 2 goto +4      (char)
      '5504030001000000', // if r4 != 1 goto +3
      '5505020003000000', // if r5 != 3 goto +2
      'b700000001000000', // r0 = 1
      '9500000000000000', // exit
      'b700000000000000', // r0 = 0
      '9500000000000000', // exit
    ]);
  });

  it("allows exactly runc's default devices", () => {
    const p = deviceFilterInsns(DEFAULT_DEVICE_RULES);
    for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [136, 0], [136, 7], [10, 200]]) {
      expect(run(p, C, R | W, major!, minor!), `c ${major}:${minor}`).toBe(1);
    }
    expect(run(p, C, R, 1, 1)).toBe(0); // /dev/mem
    expect(run(p, C, R, 1, 11)).toBe(0); // /dev/kmsg
    expect(run(p, B, R | W, 8, 0)).toBe(0); // /dev/sda
    expect(run(p, C, M, 1, 1)).toBe(1); // mknod of anything: c *:* m
    expect(run(p, B, M, 8, 0)).toBe(1);
    expect(run(p, C, M | R, 1, 1)).toBe(0); // but not mknod-and-open
  });
});
