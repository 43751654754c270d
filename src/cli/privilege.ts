/**
 * podns run by a user who forgot sudo: a verb that cannot work without root says so in one line — why it
 * needs root, and the same command line under sudo — before it touches anything; a verb that only reads
 * (ps, logs, inspect) runs, and if it meets state only root may read, says the same instead of a raw EACCES.
 */
import { describeErrno, PodnsError, UserError } from '../errors.js';

/** `podns run needs root: it makes …; try sudo podns run pod.yaml`. */
export function rootRequired(verb: readonly string[], why: string, argv: readonly string[]): UserError {
  return new UserError('ENOTROOT', `${verb.join(' ')} needs root: ${why}; try ${sudoLine(argv)}`);
}

/**
 * A permission error (EACCES, EPERM), as rootRequired says it, for the caller to show a user who is not root;
 * undefined for any other error.
 */
export function permissionDenied(err: unknown, verb: readonly string[], argv: readonly string[]): UserError | undefined {
  const e = err as { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown };
  if (e?.code !== 'EACCES' && e?.code !== 'EPERM') return undefined;
  // A SysError's message already names the call and the object; Node's own errors name them in fields.
  const what = err instanceof PodnsError || typeof e.syscall !== 'string' ? String(e.message) : `${e.syscall}${typeof e.path === 'string' ? ` "${e.path}"` : ''}: ${describeErrno(e.code)}`;
  return rootRequired(verb, what, argv);
}

/** The command line as the user typed it, under sudo, quoted for a POSIX shell where a word needs it. */
export function sudoLine(argv: readonly string[]): string {
  const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);
  return ['sudo', 'podns', ...argv.map(quote)].join(' ');
}
