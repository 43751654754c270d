/**
 * The pod's fd store, held by the pause (native/README.md, "The fd store"): the supervisor sends it a copy of
 * every fd a container's output depends on, so that the supervisor may die without the containers getting EPIPE,
 * and a new supervisor finds those fds in the pause's fd table by identity and takes copies (pidfd_getfd).
 */
import fs from 'node:fs';
import type { Kernel } from '../kernel/kernel.js';
import { FD_STORE_MAX_PER_MESSAGE, type ProcessIdentity } from '../kernel/types.js';
import { PodnsError, SysError } from '../errors.js';
import type { FdIdentity } from '../state/pod-state.js';

/** The store's two ends in the pause: it receives on 3; 4 is the sending end, kept for later supervisors to copy. */
export const STORE_RECEIVE_FD = 3;
export const STORE_SEND_FD = 4;

/** Buffer of each output pipe: what a container can write while no supervisor reads (pipe-max-size's default). */
export const OUTPUT_PIPE_BYTES = 1 << 20;

export function fdIdentity(fd: number): FdIdentity {
  const st = fs.fstatSync(fd);
  return { dev: st.dev, ino: st.ino };
}

function key(id: FdIdentity): string {
  return `${id.dev}:${id.ino}`;
}

/**
 * The fds `pid` holds, by identity (stat of /proc/<pid>/fd/N follows the link to the open file itself):
 * how a new supervisor finds the pipes and the store in the pause's fd table.
 */
export function fdTable(pid: number, procRoot = '/proc'): Map<string, number> {
  const table = new Map<string, number>();
  for (const entry of fs.readdirSync(`${procRoot}/${pid}/fd`)) {
    try {
      const st = fs.statSync(`${procRoot}/${pid}/fd/${entry}`);
      table.set(key({ dev: st.dev, ino: st.ino }), Number(entry));
    } catch {
      // closed meanwhile
    }
  }
  return table;
}

/** Takes a copy of the fd `holder` holds with this identity; undefined when it holds none (closed: its writers are gone). */
export function takeHeldFd(kernel: Pick<Kernel, 'takeFd'>, holder: ProcessIdentity, table: Map<string, number>, id: FdIdentity): number | undefined {
  const fd = table.get(key(id));
  if (fd === undefined) return undefined;
  let copy: number;
  try {
    copy = kernel.takeFd(holder, fd);
  } catch (err) {
    // Closed since the table was read (its writers went): there is nothing left to take.
    if (err instanceof SysError && err.code === 'EBADF') return undefined;
    throw err;
  }
  // The table was read a moment ago: fd N may have been closed and reused since. The copy must be the same file.
  const got = fdIdentity(copy);
  if (key(got) === key(id)) return copy;
  fs.closeSync(copy);
  return undefined;
}

type StoreKernel = Pick<Kernel, 'socketPair' | 'sendFds' | 'takeFd'>;

export class FdStore {
  private constructor(
    private readonly kernel: StoreKernel,
    private sendFd: number,
    readonly identity: FdIdentity,
  ) {}

  /**
   * A new store for a pause about to start: `pauseFds` become its fds 3 and 4 (SpawnRequest.extraFds). The
   * store sends on its own end, the same one the pause gets as fd 4; the receiving end is ours to close once
   * the pause has its copy (closeReceiveEnd), so that only the pause ever reads it.
   */
  static create(kernel: StoreKernel): { store: FdStore; pauseFds: [number, number]; closeReceiveEnd: () => void } {
    const [receive, send] = kernel.socketPair();
    return { store: new FdStore(kernel, send, fdIdentity(send)), pauseFds: [receive, send], closeReceiveEnd: () => fs.closeSync(receive) };
  }

  /** A later supervisor's way in: a copy of the pause's sending end, which must be the socket recorded at its start. */
  static reopen(kernel: StoreKernel, pause: ProcessIdentity, identity: FdIdentity): FdStore {
    const fd = kernel.takeFd(pause, STORE_SEND_FD);
    if (key(fdIdentity(fd)) !== key(identity)) {
      fs.closeSync(fd);
      throw new PodnsError('fdStore.reopen', `fd ${STORE_SEND_FD} of pause pid ${pause.pid} is not the pod's fd store`);
    }
    return new FdStore(kernel, fd, identity);
  }

  /** The pause holds a copy of each of `fds` from now on, until their writers are gone. */
  hold(fds: number[], what: string): void {
    for (let i = 0; i < fds.length; i += FD_STORE_MAX_PER_MESSAGE) {
      this.kernel.sendFds(this.sendFd, fds.slice(i, i + FD_STORE_MAX_PER_MESSAGE), `hand ${what} to the pause's fd store`);
    }
  }

  /** The pause lets go of its copies of `fds` (the same open files): a container's stdin closed on purpose. */
  drop(fds: number[], what: string): void {
    this.kernel.sendFds(this.sendFd, fds, `take ${what} back from the pause's fd store`, 'drop');
  }

  /** Tells the pause to look at its parked fds again (after a run's output was read to the end). */
  nudge(): void {
    this.kernel.sendFds(this.sendFd, [], "nudge the pause's fd store");
  }

  close(): void {
    if (this.sendFd < 0) return;
    fs.closeSync(this.sendFd);
    this.sendFd = -1;
  }
}
