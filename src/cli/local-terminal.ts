/**
 * The user's side of a terminal session (`podns attach -t`, `podns exec -t`): our terminal in raw mode, so
 * that every key (Ctrl-C too) goes to the program in the container, its size sent now and on every resize,
 * and podman's detach keys (Ctrl-P Ctrl-Q) to leave without ending anything. The terminal is restored however
 * the session ends.
 */
import { spawnSync } from 'node:child_process';

export interface LocalTerminalHandlers {
  input(chunk: Buffer): void;
  /** Our stdin ended (a pipe ran out). */
  end(): void;
  resize?(rows: number, cols: number): void;
  /** The detach keys were typed. */
  detach?(): void;
}

/** podman's default --detach-keys "ctrl-p,ctrl-q". */
export const DETACH_KEYS = Buffer.from([0x10, 0x11]);

/** Watches typed input for a key sequence that may arrive split over several reads. */
export class KeySequence {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** True when this chunk completes the sequence. */
  seen(chunk: Buffer): boolean {
    for (const byte of chunk) {
      this.matched = byte === this.keys[this.matched] ? this.matched + 1 : byte === this.keys[0] ? 1 : 0;
      if (this.matched === this.keys.length) {
        this.matched = 0;
        return true;
      }
    }
    return false;
  }
}

export interface LocalTerminal {
  /** Our stdin is a terminal in raw mode. */
  readonly raw: boolean;
  restore(): void;
}

/**
 * Starts forwarding our stdin (when `forwardStdin`) and, with `terminal` and a real terminal on our side, puts
 * it in raw mode and reports its size.
 */
export function startLocalTerminal(options: { terminal: boolean; forwardStdin: boolean }, handlers: LocalTerminalHandlers): LocalTerminal {
  const stdin = process.stdin;
  const raw = options.terminal && stdin.isTTY === true;
  if (raw) {
    stdin.setRawMode(true);
    // libuv's raw mode keeps output processing (ONLCR): the container's terminal already turned \n into \r\n,
    // and ours would add a second \r. The remote end does the output processing, as moby/term's MakeRaw has it.
    // setRawMode(false) restores the settings saved before, OPOST included.
    spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  }
  const sendSize = () => {
    const out = process.stdout;
    if (out.isTTY && out.rows && out.columns) handlers.resize?.(out.rows, out.columns);
  };
  if (options.terminal) {
    sendSize();
    process.stdout.on('resize', sendSize);
  }
  const detachKeys = new KeySequence(DETACH_KEYS);
  const onData = (chunk: Buffer) => {
    // Only in raw mode: otherwise the keys are the terminal's own (^P, ^Q) and never reach us as typed.
    if (raw && handlers.detach && detachKeys.seen(chunk)) return handlers.detach();
    handlers.input(chunk);
  };
  const onEnd = () => handlers.end();
  if (options.forwardStdin) {
    stdin.on('data', onData);
    stdin.once('end', onEnd);
  }
  let restored = false;
  return {
    raw,
    restore() {
      if (restored) return;
      restored = true;
      process.stdout.off('resize', sendSize);
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      // A pipe or a terminal keeps the event loop alive while open: we are done reading it.
      if (options.forwardStdin) stdin.destroy();
    },
  };
}
