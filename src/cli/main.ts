#!/usr/bin/env node
/**
 * podns's entry point. Every verb is parsed by commander and each verb's module is imported only when that verb
 * runs; `podns serve --background` (the supervisor as the CLI starts it on demand) goes straight to the
 * supervisor without loading the CLI (its start-up is on the path of the first command that needs it).
 */
import module from 'node:module';
import type { Roots } from '../state/paths.js';

// V8's code cache on disk: every podns start parses the same modules; this saves ~15 ms of each.
module.enableCompileCache?.();

// The supervisor itself: as the CLI starts it (--background), or `podns serve` once it has re-exec'd itself with
// the supervisor's V8 flags (see the serve verb below). Neither loads commander.
const supervising =
  commandOf(process.argv) === 'serve' &&
  (process.argv.includes('--background') || (process.execArgv.includes('--max-semi-space-size=1') && !process.argv.some((a) => ['--stop', '--help', '-h'].includes(a))));
if (supervising) {
  try {
    const [{ resolveRoots }, { serve }] = await Promise.all([import('../state/paths.js'), import('../supervisor/serve.js')]);
    await serve(resolveRoots(rootArgument(process.argv)), { background: process.argv.includes('--background') });
  } catch (err) {
    reportError(err, process.argv.includes('--debug'));
    process.exitCode = 1;
  }
} else {
  await main();
}

/** The verb of a raw command line: the first word that is neither a global option nor its value. */
function commandOf(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root' || a === '-n' || a === '--namespace') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** `--root DIR` or `--root=DIR` from the raw command line (commander has not parsed it yet). */
function rootArgument(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') return argv[i + 1];
    if (argv[i]!.startsWith('--root=')) return argv[i]!.slice('--root='.length);
  }
  return undefined;
}

async function main(): Promise<void> {
  /**
   * Verbs that show the pods' state: a dead supervisor is brought back (and adopts the pods) before they run.
   * Not exec: it joins the container's namespaces itself and needs no supervisor.
   */
  const SHOWS_PODS = new Set(['ps', 'describe', 'logs', 'events', 'inspect', 'explain', 'stats']);
  const { Command, Option } = await import('commander');
  const { resolveRoots } = await import('../state/paths.js');
  const program = new Command('podns');
  let debug = false;
  program
    .description('Run Kubernetes Pods with the kernel directly: a pause process, namespaces, overlayfs.')
    .option('--root <dir>', 'keep all state under this directory (env PODNS_ROOT)')
    .option('--debug', 'show stack traces and causes of errors')
    .option('-n, --namespace <ns>', 'the pod namespace', 'default')
    .configureOutput({ outputError: (str, write) => write(str) });
  const roots = (): Roots => resolveRoots(program.opts().root);
  program.hook('preAction', async (_program, action) => {
    debug = !!program.opts().debug;
    // The verbs that show or use running pods bring a dead supervisor back first: it adopts them (the verbs
    // that change pods reach it through its socket, which starts it when nobody answers).
    if (SHOWS_PODS.has(action.name())) {
      const { reviveSupervisor } = await import('../supervisor/liveness.js');
      await reviveSupervisor(roots());
    }
  });
  const ns = (): string => program.opts().namespace;
  const warn = (line: string) => process.stderr.write(`warning: ${line}\n`);

  program
    .command('run')
    .description('run the pods of a manifest (returns once every container runs)')
    .argument('<file>', 'Pod manifest (YAML or JSON, several documents allowed)')
    .option('--replace', 'remove a pod of the same name first')
    .option('--cgroup-parent <path>', 'cgroup parent: absolute, or relative to our own cgroup (env PODNS_CGROUP_PARENT; default /podns)')
    .option('--pod-pids-limit <n>', 'pids.max of each pod cgroup, 0 for none (env PODNS_POD_PIDS_LIMIT; default 4096)', (v) => parseNonNegative(v, '--pod-pids-limit'))
    .addOption(
      new Option('--infra <mode>', 'pause (default): a pause process holds the namespaces; none: the first container does (annotation podns.io/infra)').choices(['pause', 'none']),
    )
    .option('--explain', 'then print every kernel step it took, in order, with the command that does it by hand')
    .option('--wait [seconds]', 'then wait until every pod is Ready (default 300 s)', (v) => parseNonNegative(v, '--wait'))
    .option('--attach', "then stream every container's log, across restarts, until none will run again; Ctrl-C stops the pods")
    .action(async (file: string, opts: { replace?: boolean; cgroupParent?: string; podPidsLimit?: number; infra?: string; explain?: boolean; wait?: number | true; attach?: boolean }) => {
      const { runPods } = await import('./commands/run.js');
      const names = await runPods(roots(), file, opts, warn);
      for (const name of names) process.stdout.write(`pod/${name} running\n`);
      if (opts.explain) {
        const { explainPod } = await import('./commands/explain.js');
        for (const name of names) process.stdout.write(explainPod(roots(), ns(), name));
      }
      if (opts.wait !== undefined) {
        const { waitReady } = await import('./commands/down.js');
        await waitReady(roots(), ns(), names, (opts.wait === true ? 300 : opts.wait) * 1000);
        for (const name of names) process.stdout.write(`pod/${name} ready\n`);
      }
      if (opts.attach) {
        const { attachLogs } = await import('./commands/attach-logs.js');
        await attachLogs(roots(), ns(), names, (text, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(text));
      }
    });

  program
    .command('down')
    .description('remove every pod of a manifest (stopped with SIGKILL), as podman kube down')
    .argument('<file>')
    .action(async (file: string) => {
      const { downPods } = await import('./commands/down.js');
      await downPods(roots(), file, (line) => process.stdout.write(`${line}\n`));
    });

  program
    .command('explain')
    .description('every kernel step podns took for a pod, in order, with the command that does it by hand')
    .argument('<pod>')
    .action(async (pod: string) => {
      const { explainPod } = await import('./commands/explain.js');
      process.stdout.write(explainPod(roots(), ns(), pod));
    });

  program
    .command('ps')
    .description('list pods and their containers')
    .addOption(new Option('-o, --output <format>', 'output format (wide adds the pod IP)').choices(['table', 'wide', 'json']).default('table'))
    .action(async (opts: { output: string }) => {
      if (opts.output === 'json') {
        const { listPods } = await import('./pod-lookup.js');
        process.stdout.write(JSON.stringify(listPods(roots()).map((p) => p.state), null, 2) + '\n');
        return;
      }
      const { psTable, unsupervisedHints } = await import('./commands/ps.js');
      process.stdout.write(psTable(roots(), Date.now(), opts.output === 'wide'));
      for (const hint of unsupervisedHints(roots())) process.stderr.write(`${hint}\n`);
    });

  program
    .command('exec')
    .description('run a command in a running container')
    .argument('<pod>')
    .argument('<command...>', 'the command, after --')
    .option('-c, --container <name>', 'container (default: the first)')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'give the command a terminal (in the container), relayed to ours in raw mode')
    .action(async (pod: string, command: string[], opts: { container?: string; stdin?: boolean; tty?: boolean }) => {
      const { execInPod } = await import('./commands/exec.js');
      process.exitCode = await execInPod(roots(), ns(), pod, command, opts);
    });

  program
    .command('describe')
    .description("a pod's state for people, as kubectl describe pod: containers, conditions, volumes, events")
    .argument('<pod>')
    .action(async (pod: string) => {
      const { describeCommand } = await import('./commands/describe.js');
      process.stdout.write(describeCommand(roots(), ns(), pod));
    });

  program
    .command('attach')
    .description("attach to a running container's output, stdin (-i) and terminal (-t); Ctrl-P Ctrl-Q detaches")
    .argument('<pod>')
    .option('-c, --container <name>', 'container (default: the first)')
    .option('-i, --stdin', "pass our stdin to the container's (it needs stdin: true)")
    .option('-t, --tty', 'our stdin is a terminal: raw mode, window size (the container needs tty: true)')
    .option('-q, --quiet', 'no "If you don\'t see a command prompt" hint')
    .action(async (pod: string, opts: { container?: string; stdin?: boolean; tty?: boolean; quiet?: boolean }) => {
      const { attachToContainer } = await import('./commands/attach.js');
      process.exitCode = await attachToContainer(roots(), ns(), pod, opts);
    });

  program
    .command('logs')
    .description("print a container's logs")
    .argument('<pod>')
    .option('-c, --container <name>', 'container (default: the first)')
    .option('-f, --follow', 'keep printing as the log grows')
    .option('--tail <lines>', 'only the last N lines', (v) => parseNonNegative(v, '--tail'))
    .option('--timestamps', 'prefix each line with its time')
    .option('-p, --previous', "the previous run's log (before the last restart)")
    .action(async (pod: string, opts: { container?: string; follow?: boolean; tail?: number; timestamps?: boolean; previous?: boolean }) => {
      const { showLogs } = await import('./commands/logs.js');
      await showLogs(roots(), ns(), pod, opts);
    });

  program
    .command('stop')
    .description('stop a pod, or one container of it (-c)')
    .argument('<pod>')
    .option('-c, --container <name>', 'stop only this container')
    .option('-t, --timeout <seconds>', 'grace period before SIGKILL (default: terminationGracePeriodSeconds)', (v) =>
      parseNonNegative(v, '--timeout'),
    )
    .action(async (pod: string, opts: { container?: string; timeout?: number }) => {
      const { stopPod } = await import('./commands/stop.js');
      await stopPod(roots(), ns(), pod, opts.container, opts.timeout);
    });

  program
    .command('rm')
    .description('remove pods (-f: stop them first, with SIGKILL)')
    .argument('<pods...>')
    .option('-f, --force', 'remove running pods too')
    .action(async (pods: string[], opts: { force?: boolean }) => {
      const { removePod } = await import('./commands/rm.js');
      for (const pod of pods) await removePod(roots(), ns(), pod, !!opts.force);
    });

  program
    .command('serve')
    .description('run the supervisor of this root in the foreground (under systemd: scripts/systemd/podns.service, see README)')
    .option('--stop', 'stop the running supervisor instead (the pods run on; the next podns command starts a new one)')
    .action(async (opts: { stop?: boolean }) => {
      if (opts.stop) {
        const { stopSupervisor } = await import('./commands/info.js');
        process.stdout.write(`${await stopSupervisor(roots())}\n`);
        return;
      }
      // The supervisor runs with its own V8 flags (client.ts SUPERVISOR_NODE_FLAGS): this process becomes that
      // one, same pid (what systemd watches), when it was started without them.
      const { SUPERVISOR_NODE_FLAGS } = await import('../supervisor/client.js');
      if (!SUPERVISOR_NODE_FLAGS.every((f) => process.execArgv.includes(f))) {
        process.execve!(process.execPath, [process.execPath, ...SUPERVISOR_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
      }
      const { serve } = await import('../supervisor/serve.js');
      await serve(roots(), { background: false });
    });

  program
    .command('info')
    .description('the supervisor: pid, pods, memory, event-loop delay')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (opts: { output: string }) => {
      const { supervisorInfo } = await import('./commands/info.js');
      process.stdout.write(await supervisorInfo(roots(), opts.output === 'json'));
    });

  program
    .command('events')
    .description("the pods' events (Pulled, Created, Started, Killing, OOMKilled, ...), oldest first")
    .argument('[pod]')
    .option('-w, --watch', 'keep printing new events')
    .action(async (pod: string | undefined, opts: { watch?: boolean }) => {
      const { showEvents } = await import('./commands/events.js');
      await showEvents(roots(), ns(), pod, !!opts.watch, (text) => process.stdout.write(text));
    });

  program
    .command('gc')
    .description('remove what podns made and nothing owns any more: dead pods, leases, veths, ports, the idle bridge')
    .action(async () => {
      const { runGarbageCollection } = await import('./commands/gc.js');
      await runGarbageCollection(roots(), (line) => process.stdout.write(`${line}\n`));
    });

  program
    .command('inspect')
    .description('a pod as JSON: pause pid, every process with its namespace inodes, paths; --namespaces: the namespace map')
    .argument('<pod>')
    .option('--namespaces', 'the namespace map: one row per process, one column per namespace type')
    .addOption(new Option('-o, --output <format>', 'with --namespaces: table, json or dot (Graphviz)').choices(['table', 'json', 'dot']).default('table'))
    .action(async (pod: string, opts: { namespaces?: boolean; output: string }) => {
      const { inspectPod } = await import('./commands/inspect.js');
      if (!opts.namespaces) {
        process.stdout.write(JSON.stringify(inspectPod(roots(), ns(), pod), null, 2) + '\n');
        return;
      }
      const { namespaceMapOf } = await import('./commands/inspect.js');
      const { namespaceDot, namespaceTable } = await import('./commands/namespace-map.js');
      const rows = namespaceMapOf(roots(), ns(), pod);
      if (opts.output === 'dot') process.stdout.write(namespaceDot(pod, rows));
      else if (opts.output === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else process.stdout.write(namespaceTable(rows));
    });

  program
    .command('stats')
    .description("CPU, memory and pids of pods and their containers, from their cgroups (like podman stats)")
    .argument('[pod]', 'only this pod')
    .option('-w, --watch', 'refresh every interval until interrupted')
    .option('--interval <ms>', 'sampling interval (default 1000)', (v) => parseNonNegative(v, '--interval'))
    .addOption(new Option('-o, --output <format>', 'output format (wide adds the pod IP)').choices(['table', 'wide', 'json']).default('table'))
    .action(async (pod: string | undefined, opts: { watch?: boolean; interval?: number; output: string }) => {
      const { showStats } = await import('./commands/stats.js');
      await showStats(roots(), ns(), pod, { ...opts, intervalMs: opts.interval }, (t) => process.stdout.write(t));
    });

  // `images` and `image ls`, `rmi` and `image rm`: one action each, two spellings (as docker and podman have).
  const listImages = async () => {
    const { openStore, imagesTable } = await import('./commands/images.js');
    process.stdout.write(imagesTable(await openStore(roots()).list()));
  };
  const removeImages = async (names: string[]) => {
    const { removeImage } = await import('./commands/images.js');
    for (const name of names) {
      await removeImage(roots(), name);
      process.stdout.write(`Deleted: ${name}\n`);
    }
  };

  program
    .command('images')
    .description('list images')
    .action(listImages);

  program
    .command('pull')
    .description('pull an image from a registry (mirrors, insecure registries: <etc>/registries.json)')
    .argument('<image>', 'reference, e.g. nginx, registry.k8s.io/pause:3.9, repo@sha256:...')
    .option('--authfile <file>', 'docker-style auth.json with registry credentials (default: <etc>/auth.json)')
    .option('-q, --quiet', 'print only the image name')
    .action(async (ref: string, opts: { authfile?: string; quiet?: boolean }) => {
      const { pullCommand } = await import('./commands/pull.js');
      const { record } = await pullCommand(roots(), ref, opts);
      if (opts.quiet) process.stdout.write(`${record.name}\n`);
    });

  program
    .command('rmi')
    .description('remove images (alias of image rm)')
    .argument('<names...>')
    .action(removeImages);

  const volume = program.command('volume').description('named volumes (what persistentVolumeClaim volumes map to)');
  volume
    .command('ls')
    .description('list named volumes: size, the pods that use them')
    .action(async () => {
      const { volumeTable } = await import('./commands/volumes.js');
      process.stdout.write(volumeTable(roots()));
    });
  volume
    .command('rm')
    .description('remove named volumes and their data (not while a pod uses them)')
    .argument('<name...>')
    .action(async (names: string[]) => {
      const { removeVolumes } = await import('./commands/volumes.js');
      removeVolumes(roots(), ns(), names, (line) => process.stdout.write(`${line}\n`));
    });
  volume
    .command('prune')
    .description('remove every named volume no pod uses')
    .action(async () => {
      const { pruneVolumes } = await import('./commands/volumes.js');
      pruneVolumes(roots(), (line) => process.stdout.write(`${line}\n`));
    });

  const image = program.command('image').description('manage local images');
  image
    .command('prune')
    .description('remove layers and blobs no image uses, and leftovers of interrupted pulls')
    .action(async () => {
      const { pruneImages } = await import('./commands/images.js');
      process.stdout.write(await pruneImages(roots()));
    });
  image
    .command('import')
    .description('import a rootfs tarball (plain, gzip or zstd) as a one-layer image')
    .argument('<tarball>')
    .argument('<name>')
    .action(async (tarball: string, name: string) => {
      const { openStore } = await import('./commands/images.js');
      const record = await openStore(roots()).importRootfs(tarball, name);
      process.stdout.write(`${record.name} ${record.id}\n`);
    });
  image
    .command('load')
    .description('load an OCI image-layout archive or a `docker save` archive')
    .argument('<archive>')
    .argument('[name]', 'name for the image when the archive holds one')
    .action(async (archive: string, name?: string) => {
      const { openStore } = await import('./commands/images.js');
      for (const record of await openStore(roots()).load(archive, name)) process.stdout.write(`Loaded image: ${record.name}\n`);
    });
  image
    .command('ls')
    .description('list images')
    .action(listImages);
  image
    .command('rm')
    .description('remove images (layers no other image uses go too)')
    .argument('<names...>')
    .action(removeImages);

  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    reportError(err, debug || process.argv.includes('--debug'));
    process.exitCode = 1;
  }
}

function parseNonNegative(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new (class extends Error {
      code = 'commander.invalidArgument';
    })(`${flag} must be a non-negative integer, got "${value}"`);
  }
  return n;
}

/** One line for the user; the stack and the cause chain only with --debug. */
function reportError(err: unknown, debug: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`podns: ${message}\n`);
  if (!debug) return;
  let cause: unknown = err;
  while (cause) {
    if (cause instanceof Error) process.stderr.write(`${cause.stack ?? cause.message}\n`);
    cause = cause instanceof Error ? cause.cause : undefined;
    if (cause) process.stderr.write('caused by: ');
  }
}
