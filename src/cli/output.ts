/**
 * The CLI's stdout and stderr for whole blocks of text (a table, a JSON document, an error line): written
 * with write(2) directly, as Node itself writes to files and, on Linux, to pipes (synchronously), without
 * setting up process.stdout's stream machinery — ~1.5 ms of a command that prints one table. A descriptor
 * someone made non-blocking (EAGAIN) goes back to the process.stdout/stderr stream for the rest of the run, so
 * the order of the output holds. A reader that went away (EPIPE: `podns ps | head -1`, `podns logs -f | grep
 * -m1 x`) ends the command quietly, as SIGPIPE ends a C program: nobody reads what it would print next, and a
 * `-f` or `-w` would otherwise follow for ever.
 */
const fs = process.getBuiltinModule('node:fs');

const viaStream = new Set<number>();

export function writeStdout(text: string): void {
  write(1, text);
}

export function writeStderr(text: string): void {
  write(2, text);
}

function write(fd: 1 | 2, text: string): void {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (viaStream.has(fd)) {
    stream().write(text);
    return;
  }
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(fs.writeSync(fd, rest));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit();
      if (code !== 'EAGAIN') throw err;
      viaStream.add(fd);
      stream().write(rest);
      return;
    }
  }
}
