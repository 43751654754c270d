/**
 * The error types every podns module throws. One base class carrying the failing step; subclasses add what
 * a person needs to act on the failure (errno and path for kernel calls, argv and stderr for commands,
 * file:line and field path for manifests). Callers recover by `code`, never by parsing messages.
 */

export class PodnsError extends Error {
  /** Where it failed, e.g. `rootfs.mountOverlay`; shown with --debug. */
  readonly step: string;
  constructor(step: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.step = step;
  }
}

/** A failed system call: `mount overlay on "/x": device or resource busy (EBUSY)`. */
export class SysError extends PodnsError {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly path?: string;
  constructor(step: string, syscall: string, errno: number, code: string, detail: string, path?: string) {
    super(step, `${detail}: ${describeErrno(code, errno)}`);
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.path = path;
  }
}

/** A failed external command (`ip`, `tar`, ...). */
export class CommandError extends PodnsError {
  readonly argv: string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(step: string, argv: string[], exitCode: number | undefined, stderr: string, options?: { cause?: unknown }) {
    const last = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
    super(step, `${argv.join(' ')}: ${exitCode === undefined ? 'failed to start' : `exit ${exitCode}`}${last ? `: ${last}` : ''}`, options);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** A problem in a manifest, reported as `file:line: path: message`. */
export class ManifestError extends PodnsError {
  readonly file: string;
  readonly line: number | undefined;
  readonly fieldPath: string;
  readonly detail: string;
  constructor(file: string, line: number | undefined, fieldPath: string, detail: string) {
    super('manifest', `${file}${line ? `:${line}` : ''}: ${fieldPath ? `${fieldPath}: ` : ''}${detail}`);
    this.file = file;
    this.line = line;
    this.fieldPath = fieldPath;
    this.detail = detail;
  }
}

/** A request that cannot be served as asked: unknown pod, name clash, bad flag combination. */
export class UserError extends PodnsError {
  readonly code: string;
  constructor(code: string, message: string) {
    super('cli', message);
    this.code = code;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'bad file descriptor',
  ECHILD: 'no child processes',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
};

export function describeErrno(code: string, errno?: number): string {
  const text = ERRNO_TEXT[code];
  if (text) return `${text} (${code})`;
  return errno !== undefined ? `${code} (errno ${errno})` : code;
}

/** Node's own fs errors carry code/syscall/path; turn them into a SysError with our step. */
export function fromNodeError(step: string, err: unknown, detail: string): PodnsError {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.errno === 'number') {
    return new SysError(step, e.syscall ?? 'unknown', Math.abs(e.errno), e.code, detail, e.path);
  }
  return new PodnsError(step, `${detail}: ${e?.message ?? String(err)}`, { cause: err });
}
