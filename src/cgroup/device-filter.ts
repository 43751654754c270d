/**
 * The cgroup v2 device policy as an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE), generated from device rules
 * (`c 1:3 rwm`, `c *:* m`) the way runc's devicefilter.go does: the program reads struct bpf_cgroup_dev_ctx
 * { u32 access_type (access << 16 | type); u32 major; u32 minor; }, tries each allow rule in order, returns 1
 * (allow) on the first match and 0 (the kernel answers EPERM) when none matches. Pure: the addon only loads it.
 */
import type { DeviceRule } from './resources.js';

const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
const ACC = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

/** One struct bpf_insn. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcodes (linux/bpf_common.h, linux/bpf.h).
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND32K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  MOV64K: 0xb7, // BPF_ALU64 | BPF_MOV | BPF_K
  JNEK: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JNEX: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

interface ParsedRule {
  type?: number;
  major?: number;
  minor?: number;
  access: number;
}

/** `c 1:3 rwm` → its parts; `*` and the type `a` are wildcards. Throws on anything else. */
export function parseDeviceRule(rule: DeviceRule): ParsedRule {
  const m = /^([abc])(?: (\*|\d+):(\*|\d+))?(?: ([rwm]{1,3}))?$/.exec(rule.trim());
  if (!m) throw new Error(`invalid device rule ${JSON.stringify(rule)}`);
  const [, type, major, minor, access] = m;
  const out: ParsedRule = { access: 0 };
  for (const a of access ?? 'rwm') out.access |= ACC[a as keyof typeof ACC];
  if (type !== 'a') out.type = DEV_TYPE[type as keyof typeof DEV_TYPE];
  if (major !== undefined && major !== '*') out.major = Number(major);
  if (minor !== undefined && minor !== '*') out.minor = Number(minor);
  return out;
}

/** The program's instructions: load the context into r2 (type), r3 (access), r4 (major), r5 (minor), then one block per rule. */
export function deviceFilterInsns(rules: readonly DeviceRule[]): Insn[] {
  const out: Insn[] = [
    I(OP.LDXW, 2, 1, 0),
    I(OP.AND32K, 2, 0, 0, 0xffff),
    I(OP.LDXW, 3, 1, 0),
    I(OP.RSH32K, 3, 0, 0, 16),
    I(OP.LDXW, 4, 1, 4),
    I(OP.LDXW, 5, 1, 8),
  ];
  for (const rule of rules.map(parseDeviceRule)) {
    const block: Insn[] = [];
    const jumps: number[] = [];
    const skipUnless = (insn: Insn) => {
      jumps.push(block.length);
      block.push(insn);
    };
    if (rule.type !== undefined) skipUnless(I(OP.JNEK, 2, 0, 0, rule.type));
    if (rule.access !== 7) {
      // Every access asked for must be allowed: (asked & allowed) == asked.
      block.push(I(OP.MOV32X, 1, 3));
      block.push(I(OP.AND32K, 1, 0, 0, rule.access));
      skipUnless(I(OP.JNEX, 1, 3));
    }
    if (rule.major !== undefined) skipUnless(I(OP.JNEK, 4, 0, 0, rule.major));
    if (rule.minor !== undefined) skipUnless(I(OP.JNEK, 5, 0, 0, rule.minor));
    block.push(I(OP.MOV64K, 0, 0, 0, 1), I(OP.EXIT));
    for (const j of jumps) block[j]!.off = block.length - j - 1;
    out.push(...block);
  }
  out.push(I(OP.MOV64K, 0, 0, 0, 0), I(OP.EXIT));
  return out;
}

/** The program as the kernel takes it: struct bpf_insn[] (code u8, dst:4 src:4, off s16, imm s32), little-endian. */
export function buildDeviceFilter(rules: readonly DeviceRule[]): Buffer {
  const insns = deviceFilterInsns(rules);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    buf.writeUInt8(insn.code, i * 8);
    buf.writeUInt8(((insn.src & 0xf) << 4) | (insn.dst & 0xf), i * 8 + 1);
    buf.writeInt16LE(insn.off, i * 8 + 2);
    buf.writeInt32LE(insn.imm, i * 8 + 4);
  });
  return buf;
}
