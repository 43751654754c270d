/** An external command as explain steps: `ip -batch -` and `nft -f -` show each line they were fed. */
import type { Step } from './step-log.js';

export function describeCommand(argv: string[], input: string | undefined, actor: string): Step[] {
  const lines = (input ?? '').split('\n').filter((l) => l.trim());
  const batch = argv.indexOf('-batch');
  if (argv[0] === 'ip' && batch >= 0 && lines.length) {
    const prefix = argv.slice(0, batch).join(' ');
    return lines.map((l) => ({ actor, what: `${prefix} ${l}`, command: `${prefix} ${l}` }));
  }
  const stdin = argv.includes('-f') && argv.includes('-') && lines.length;
  const command = stdin ? `${argv.join(' ')} <<'EOF'\n${lines.map((l) => `         ${l}`).join('\n')}\n         EOF` : argv.join(' ');
  return [{ actor, what: stdin ? `${argv[0]}: ${lines[0]!.trim()}${lines.length > 1 ? ` (+${lines.length - 1} lines)` : ''}` : argv.join(' '), command }];
}
