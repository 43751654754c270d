import fs from 'node:fs';

/**
 * Writes to a non-blocking pty master. The event loop's own TTY writes would block (libuv writes blocking to a
 * terminal it cannot reopen), and a container that does not read its terminal must not stall the shim: what
 * does not fit now is retried shortly, in order.
 */
export class TerminalWriter {
  private readonly queue: Buffer[] = [];
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly fd: number) {}

  write(data: Buffer): void {
    if (this.closed || data.length === 0) return;
    this.queue.push(data);
    if (!this.timer) this.flush();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
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
      if (written < head.length) {
        this.queue[0] = head.subarray(written);
        break;
      }
      this.queue.shift();
    }
    if (!this.closed && this.queue.length) this.timer = setTimeout(() => this.flush(), 10);
  }
}
