import { describe, it, expect } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { CommandError } from '../../../src/errors.js';
import { ExecaRunner, SpawnRunner } from '../../../src/sys/command.js';

describe('SpawnRunner with a streamed stdin', () => {
  const runner = new SpawnRunner();

  it('feeds the stream to the command and resolves once both ended', async () => {
    const { stdout } = await runner.run(['wc', '-c'], { stdin: Readable.from([Buffer.alloc(300_000, 1), Buffer.alloc(5, 2)]) });
    expect(stdout.trim()).toBe('300005');
  });

  it('kills the command when the stream fails, and rejects with the stream error once it has exited', async () => {
    const source = new PassThrough();
    const started = Date.now();
    const run = runner.run(['sleep', '30'], { stdin: source });
    source.write('partial');
    const refused = new Error('refused by the guard');
    setTimeout(() => source.destroy(refused), 50);
    await expect(run).rejects.toBe(refused);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('rejects with the command error when it fails first, and stops the stream', async () => {
    const source = new PassThrough();
    const run = runner.run(['sh', '-c', 'echo "cannot go on" >&2; exit 3'], { stdin: source, step: 'test.step' });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(3);
    expect((err as CommandError).message).toMatch(/cannot go on$/);
    expect(source.destroyed).toBe(true);
  });

  it('waits for the whole stream when the command stops reading early and exits 0', async () => {
    let ended = false;
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 50; i++) yield Buffer.alloc(64 * 1024);
        ended = true;
      })(),
    );
    await runner.run(['true'], { stdin: source });
    expect(ended).toBe(true);
  });

  it('is what ExecaRunner uses for a streamed stdin', async () => {
    const { stdout } = await new ExecaRunner().run(['cat'], { stdin: Readable.from(['a', 'b']) });
    expect(stdout).toBe('ab');
  });
});
