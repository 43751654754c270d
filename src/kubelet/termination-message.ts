/**
 * A container's termination message, as kubelet finds it after the exit (kuberuntime_container.go): the file
 * at terminationMessagePath (up to 4 KiB); with FallbackToLogsOnError, when that is empty and the exit is an
 * error, the tail of its log (80 lines, 2 KiB). And the last log line, for a one-line error.
 */
import fs from 'node:fs';

/** kubelet's limits (pkg/kubelet/container: MaxContainerTerminationMessageLength, ...LogLines, ...LogLength). */
const MAX_MESSAGE_BYTES = 4096;
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/**
 * The terminated state's message, as kubelet finds it: the termination-log file (up to 4 KiB); with
 * FallbackToLogsOnError, when that is empty and the exit is an error, the tail of the log (80 lines, 2 KiB).
 */
export function terminationMessage(file: string, logPath: string, policy: 'File' | 'FallbackToLogsOnError', exitCode: number): string | undefined {
  let text = '';
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(MAX_MESSAGE_BYTES);
      text = buf.subarray(0, fs.readSync(fd, buf, 0, MAX_MESSAGE_BYTES, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no file: no message from it
  }
  if (text === '' && policy === 'FallbackToLogsOnError' && exitCode !== 0) text = logTail(logPath, FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES);
  return text === '' ? undefined : text;
}

/** The last lines of a CRI log's content (partial lines joined), at most maxBytes (the end kept). */
function logTail(logPath: string, lines: number, maxBytes: number): string {
  let raw: string;
  try {
    raw = fs.readFileSync(logPath, 'utf8');
  } catch {
    return '';
  }
  let content = '';
  for (const line of raw.split('\n')) {
    // <time> <stream> <P|F> <content>
    const parts = line.split(' ');
    if (parts.length < 3) continue;
    content += parts.slice(3).join(' ') + (parts[2] === 'P' ? '' : '\n');
  }
  const tail = content.split('\n');
  if (tail.at(-1) === '') tail.pop();
  const text = tail.slice(-lines).join('\n') + (tail.length ? '\n' : '');
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length > maxBytes ? bytes.subarray(bytes.length - maxBytes).toString('utf8') : text;
}

/** The last line of a CRI log file, its content only (for a one-line error). */
export function lastLogLine(file: string): string | undefined {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    // <time> <stream> <P|F> <content>
    return lines.at(-1)?.split(' ').slice(3).join(' ').trim() || undefined;
  } catch {
    return undefined;
  }
}

