import fs from 'node:fs';

/**
 * Writes to a non-blocking pty master. The event loop's own TTY writes would block (libuv writes blocking to a
 * terminal it cannot reopen), and a container that does not read its terminal must not stall the supervisor: what
 * does not fit now is retried shortly, in order.
 */
export class TerminalWriter {
  /** Input a program has not read yet, at most; more is dropped (a program that never reads its terminal). */
  static readonly MAX_QUEUED = 1 << 20;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly fd: number) {}

  write(data: Buffer): void {
    if (this.closed || data.length === 0 || this.queued + data.length > TerminalWriter.MAX_QUEUED) return;
    this.queue.push(data);
    this.queued += data.length;
    if (!this.timer) this.flush();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queued = 0;
    clearTimeout(this.timer);
  }

  private flush(): void {
    this.timer = undefined;
    while (!this.closed && this.queue.length) {
      const head = this.queue[0]!;
      let written: number;
      try {
        written = fs.writeSync(this.fd, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        // EIO: the terminal's peer is gone (the container exited); nothing will read it any more.
        this.close();
        return;
      }
      this.queued -= written;
      if (written < head.length) {
        this.queue[0] = head.subarray(written);
        break;
      }
      this.queue.shift();
    }
    if (!this.closed && this.queue.length) this.timer = setTimeout(() => this.flush(), 10);
  }
}
