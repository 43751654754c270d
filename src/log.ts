/**
 * A small levelled logger with fields. The CLI logs to stderr (warnings and --debug), the supervisor to its log
 * file; each pod's code logs through a child that carries `pod=<id>` on every line, so one file serves all pods.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (before the line's own). */
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(write: (line: string) => void, min: Level = 'info', base: Record<string, unknown> = {}): Logger {
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[min]) return;
    const all = fields ? { ...base, ...fields } : base;
    const extra = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join('');
    write(`${new Date().toISOString()} ${level} ${msg}${extra}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(write, min, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = createLogger(() => {}, 'error');
