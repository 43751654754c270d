/**
 * Every podns verb, its arguments and options, in one declarative table. Both parsers read it: the fast
 * path (argv-parse.ts, for command lines it fully understands) and commander (program.ts, for everything
 * else: help, errors, unusual spellings), so help, errors and the fast path cannot disagree. A verb is one
 * entry here plus the module its action imports when it runs; this file imports nothing at run time but
 * output.ts, so a command loads only its own modules.
 */
import type { Roots } from '../state/paths.js';
import { writeStderr, writeStdout } from './output.js';

/** An option in commander's notation: `-c, --container <name>` (a value), `--wait [seconds]` (optional value). */
export interface OptionSpec {
  flags: string;
  description: string;
  choices?: readonly string[];
  default?: string;
  /** Turns the text into the option's value; throws (with commander's error code) on a bad value. */
  parse?: (value: string) => unknown;
}

/** What an action gets besides its arguments: the global options, resolved. */
export interface Cli {
  readonly roots: Roots;
  readonly namespace: string;
  warn(line: string): void;
}

export interface VerbSpec {
  name: string;
  description: string;
  /** In commander's notation: `<pod>`, `[pod]`, `<pods...>`, `[pods...]`; with an optional description. */
  arguments?: readonly (readonly [name: string, description?: string])[];
  options?: readonly OptionSpec[];
  /**
   * Set when the verb cannot work without root: why, as the user reads it (`podns: run needs root: it makes …;
   * try sudo podns run pod.yaml`). Checked before the verb's module loads, so nothing is touched.
   */
  needsRoot?: string;
  /** It shows the pods' state: a dead supervisor is brought back first (it adopts the pods). */
  showsPods?: boolean;
  /**
   * Called as commander calls an action: the arguments in order, then the options object. (Method syntax: each
   * entry declares the types its own arguments have.)
   */
  action?(cli: Cli, ...params: unknown[]): Promise<void>;
  subcommands?: readonly VerbSpec[];
}

export interface ProgramSpec {
  name: string;
  description: string;
  options: readonly OptionSpec[];
  verbs: readonly VerbSpec[];
}

/** `--tail`, `--timeout` and friends: a whole number ≥ 0. The error code makes commander report it as its own. */
function nonNegative(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
      throw Object.assign(new Error(`${flag} must be a non-negative integer, got "${value}"`), { code: 'commander.invalidArgument' });
    }
    return n;
  };
}

const out = (text: string) => writeStdout(text);
const line = (text: string) => writeStdout(`${text}\n`);

const CONTAINER = { flags: '-c, --container <name>', description: 'container (default: the first)' };
const NAMESPACES = "the pod's namespaces, mounts and cgroups";

// `images` and `image ls`, `rmi` and `image rm`: one action each, two spellings (as docker and podman have).
const listImages = async (cli: Cli) => {
  const { listImages, imagesTable } = await import('./commands/images.js');
  out(imagesTable(listImages(cli.roots)));
};
const removeImages = async (cli: Cli, names: string[]) => {
  const { removeImage } = await import('./commands/image.js');
  for (const name of names) {
    await removeImage(cli.roots, name);
    line(`Deleted: ${name}`);
  }
};
const IMAGE_STORE = 'it changes the image store, whose layers keep the owners their files have in the image';

export const PODNS: ProgramSpec = {
  name: 'podns',
  description: 'Run Kubernetes Pods with the kernel directly: a pause process, namespaces, overlayfs.',
  options: [
    { flags: '--root <dir>', description: 'keep all state under this directory (env PODNS_ROOT)' },
    { flags: '--debug', description: 'show stack traces and causes of errors' },
    { flags: '-n, --namespace <ns>', description: 'the pod namespace', default: 'default' },
  ],
  verbs: [
    {
      name: 'run',
      description: 'run the pods of a manifest (returns once every container runs)',
      arguments: [['<file>', 'Pod manifest (YAML or JSON, several documents allowed)']],
      options: [
        { flags: '--replace', description: 'remove a pod of the same name first' },
        { flags: '--cgroup-parent <path>', description: 'cgroup parent: absolute, or relative to our own cgroup (env PODNS_CGROUP_PARENT; default /podns)' },
        { flags: '--pod-pids-limit <n>', description: 'pids.max of each pod cgroup, 0 for none (env PODNS_POD_PIDS_LIMIT; default 4096)', parse: nonNegative('--pod-pids-limit') },
        { flags: '--infra <mode>', description: 'pause (default): a pause process holds the namespaces; none: the first container does (annotation podns.io/infra)', choices: ['pause', 'none'] },
        { flags: '--explain', description: 'then print every kernel step it took, in order, with the command that does it by hand' },
        { flags: '--wait [seconds]', description: 'then wait until every pod is Ready (default 300 s)', parse: nonNegative('--wait') },
        { flags: '--attach', description: "then stream every container's log, across restarts, until none will run again; Ctrl-C stops the pods" },
      ],
      needsRoot: `it makes ${NAMESPACES}`,
      action: async (cli, file: string, opts: { replace?: boolean; cgroupParent?: string; podPidsLimit?: number; infra?: string; explain?: boolean; wait?: number | true; attach?: boolean }) => {
        const { runPods } = await import('./commands/run.js');
        const names = await runPods(cli.roots, file, opts, cli.warn);
        for (const name of names) line(`pod/${name} running`);
        if (opts.explain) {
          const { explainPod } = await import('./commands/explain.js');
          for (const name of names) out(explainPod(cli.roots, cli.namespace, name));
        }
        if (opts.wait !== undefined) {
          const { waitReady } = await import('./commands/down.js');
          await waitReady(cli.roots, cli.namespace, names, (opts.wait === true ? 300 : opts.wait) * 1000);
          for (const name of names) line(`pod/${name} ready`);
        }
        if (opts.attach) {
          const { attachLogs } = await import('./commands/attach-logs.js');
          await attachLogs(cli.roots, cli.namespace, names, (text, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(text));
        }
      },
    },
    {
      name: 'down',
      description: 'remove every pod of a manifest (stopped with SIGKILL), as podman kube down',
      arguments: [['<file>']],
      needsRoot: `it stops pods and removes ${NAMESPACES}`,
      action: async (cli, file: string) => {
        const { downPods } = await import('./commands/down.js');
        await downPods(cli.roots, file, line);
      },
    },
    {
      name: 'explain',
      showsPods: true,
      description: 'every kernel step podns took for a pod, in order, with the command that does it by hand',
      arguments: [['<pod>']],
      action: async (cli, pod: string) => {
        const { explainPod } = await import('./commands/explain.js');
        out(explainPod(cli.roots, cli.namespace, pod));
      },
    },
    {
      name: 'ps',
      showsPods: true,
      description: 'list pods and their containers',
      options: [{ flags: '-o, --output <format>', description: 'output format (wide adds the pod IP)', choices: ['table', 'wide', 'json'], default: 'table' }],
      action: async (cli, opts: { output: string }) => {
        // One round of loading, not two in turn (each dynamic import costs ~0.4 ms of its own).
        const [{ listPods }, { psTable, unsupervisedHints }] = await Promise.all([import('./pod-lookup.js'), import('./commands/ps.js')]);
        const pods = listPods(cli.roots);
        if (opts.output === 'json') {
          out(JSON.stringify(pods.map((p) => p.state), null, 2) + '\n');
          return;
        }
        out(psTable(pods, Date.now(), opts.output === 'wide'));
        for (const hint of unsupervisedHints(pods)) writeStderr(`${hint}\n`);
      },
    },
    {
      name: 'exec',
      description: 'run a command in a running container',
      arguments: [['<pod>'], ['<command...>', 'the command, after --']],
      options: [
        CONTAINER,
        { flags: '-i, --stdin', description: 'pass stdin to the command' },
        { flags: '-t, --tty', description: 'give the command a terminal (in the container), relayed to ours in raw mode' },
      ],
      needsRoot: "it joins the container's namespaces and cgroups",
      action: async (cli, pod: string, command: string[], opts: { container?: string; stdin?: boolean; tty?: boolean }) => {
        const { execInPod } = await import('./commands/exec.js');
        process.exitCode = await execInPod(cli.roots, cli.namespace, pod, command, opts);
      },
    },
    {
      name: 'describe',
      showsPods: true,
      description: "a pod's state for people, as kubectl describe pod: containers, conditions, volumes, events",
      arguments: [['<pod>']],
      action: async (cli, pod: string) => {
        const { describeCommand } = await import('./commands/describe.js');
        out(describeCommand(cli.roots, cli.namespace, pod));
      },
    },
    {
      name: 'attach',
      description: "attach to a running container's output, stdin (-i) and terminal (-t); Ctrl-P Ctrl-Q detaches",
      arguments: [['<pod>']],
      options: [
        CONTAINER,
        { flags: '-i, --stdin', description: "pass our stdin to the container's (it needs stdin: true)" },
        { flags: '-t, --tty', description: 'our stdin is a terminal: raw mode, window size (the container needs tty: true)' },
        { flags: '-q, --quiet', description: 'no "If you don\'t see a command prompt" hint' },
      ],
      needsRoot: "it connects to the supervisor's root-only control socket",
      action: async (cli, pod: string, opts: { container?: string; stdin?: boolean; tty?: boolean; quiet?: boolean }) => {
        const { attachToContainer } = await import('./commands/attach.js');
        process.exitCode = await attachToContainer(cli.roots, cli.namespace, pod, opts);
      },
    },
    {
      name: 'logs',
      showsPods: true,
      description: "print a container's logs",
      arguments: [['<pod>']],
      options: [
        CONTAINER,
        { flags: '-f, --follow', description: 'keep printing as the log grows' },
        { flags: '--tail <lines>', description: 'only the last N lines', parse: nonNegative('--tail') },
        { flags: '--timestamps', description: 'prefix each line with its time' },
        { flags: '-p, --previous', description: "the previous run's log (before the last restart)" },
      ],
      action: async (cli, pod: string, opts: { container?: string; follow?: boolean; tail?: number; timestamps?: boolean; previous?: boolean }) => {
        const { showLogs } = await import('./commands/logs.js');
        await showLogs(cli.roots, cli.namespace, pod, opts);
      },
    },
    {
      name: 'stop',
      description: 'stop a pod, or one container of it (-c)',
      arguments: [['<pod>']],
      options: [
        { flags: '-c, --container <name>', description: 'stop only this container' },
        { flags: '-t, --timeout <seconds>', description: 'grace period before SIGKILL (default: terminationGracePeriodSeconds)', parse: nonNegative('--timeout') },
      ],
      needsRoot: "it signals the pod's processes through the supervisor's root-only control socket",
      action: async (cli, pod: string, opts: { container?: string; timeout?: number }) => {
        const { stopPod } = await import('./commands/stop.js');
        await stopPod(cli.roots, cli.namespace, pod, opts.container, opts.timeout);
      },
    },
    {
      name: 'rm',
      description: 'remove pods (-f: stop them first, with SIGKILL)',
      arguments: [['<pods...>']],
      options: [{ flags: '-f, --force', description: 'remove running pods too' }],
      needsRoot: `it removes ${NAMESPACES}`,
      action: async (cli, pods: string[], opts: { force?: boolean }) => {
        const { removePod } = await import('./commands/rm.js');
        for (const pod of pods) await removePod(cli.roots, cli.namespace, pod, !!opts.force);
      },
    },
    {
      name: 'serve',
      description: 'run the supervisor of this root in the foreground (under systemd: scripts/systemd/podns.service, see README)',
      options: [
        { flags: '--stop', description: 'stop the running supervisor instead (the pods run on; the next podns command starts a new one)' },
        { flags: '--background', description: 'start it detached and return once it serves (what every command does when none runs)' },
      ],
      needsRoot: "it holds every pod's processes, mounts and cgroups",
      action: async (cli, opts: { stop?: boolean; background?: boolean }) => {
        if (opts.stop) {
          const { stopSupervisor } = await import('./commands/info.js');
          line(await stopSupervisor(cli.roots));
          return;
        }
        if (opts.background) {
          const { startSupervisorInBackground } = await import('./commands/info.js');
          line(await startSupervisorInBackground(cli.roots));
          return;
        }
        // The supervisor runs with its own V8 flags (SUPERVISOR_NODE_FLAGS): this process becomes that one, same pid
        // (what systemd watches), and main.ts then goes straight to it.
        const { SUPERVISOR_NODE_FLAGS } = await import('../supervisor/client.js');
        process.execve!(process.execPath, [process.execPath, ...SUPERVISOR_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
      },
    },
    {
      name: 'info',
      description: 'the supervisor: pid, pods, memory, event-loop delay',
      options: [{ flags: '-o, --output <format>', description: 'output format', choices: ['text', 'json'], default: 'text' }],
      needsRoot: "it asks the supervisor on its root-only socket",
      action: async (cli, opts: { output: string }) => {
        const { supervisorInfo } = await import('./commands/info.js');
        out(await supervisorInfo(cli.roots, opts.output === 'json'));
      },
    },
    {
      name: 'events',
      showsPods: true,
      description: "the pods' events (Pulled, Created, Started, Killing, OOMKilled, ...), oldest first",
      arguments: [['[pod]']],
      options: [{ flags: '-w, --watch', description: 'keep printing new events' }],
      action: async (cli, pod: string | undefined, opts: { watch?: boolean }) => {
        const { showEvents } = await import('./commands/events.js');
        await showEvents(cli.roots, cli.namespace, pod, !!opts.watch, out);
      },
    },
    {
      name: 'gc',
      description: 'remove what podns made and nothing owns any more: dead pods, leases, veths, ports, the idle bridge',
      needsRoot: 'it removes mounts, network devices, firewall rules and cgroups',
      action: async (cli) => {
        const { runGarbageCollection } = await import('./commands/gc.js');
        await runGarbageCollection(cli.roots, line);
      },
    },
    {
      name: 'inspect',
      showsPods: true,
      description: 'a pod as JSON: pause pid and privileges (started with, now), every process with its namespace inodes, paths; --namespaces: the namespace map',
      arguments: [['<pod>']],
      options: [
        { flags: '--namespaces', description: 'the namespace map: one row per process, one column per namespace type' },
        { flags: '-o, --output <format>', description: 'with --namespaces: table, json or dot (Graphviz)', choices: ['table', 'json', 'dot'], default: 'table' },
      ],
      action: async (cli, pod: string, opts: { namespaces?: boolean; output: string }) => {
        if (!opts.namespaces) {
          const { inspectPod } = await import('./commands/inspect.js');
          out(JSON.stringify(inspectPod(cli.roots, cli.namespace, pod), null, 2) + '\n');
          return;
        }
        const { namespaceMapOf } = await import('./commands/inspect.js');
        const { namespaceDot, namespaceTable } = await import('./commands/namespace-map.js');
        const rows = namespaceMapOf(cli.roots, cli.namespace, pod);
        if (opts.output === 'dot') out(namespaceDot(pod, rows));
        else if (opts.output === 'json') out(JSON.stringify(rows, null, 2) + '\n');
        else out(namespaceTable(rows));
      },
    },
    {
      name: 'stats',
      showsPods: true,
      description: 'CPU, memory and pids of pods and their containers, from their cgroups (like podman stats)',
      arguments: [['[pod]', 'only this pod']],
      options: [
        { flags: '-w, --watch', description: 'refresh every interval until interrupted' },
        { flags: '--interval <ms>', description: 'sampling interval (default 1000)', parse: nonNegative('--interval') },
        { flags: '-o, --output <format>', description: 'output format (wide adds the pod IP)', choices: ['table', 'wide', 'json'], default: 'table' },
      ],
      action: async (cli, pod: string | undefined, opts: { watch?: boolean; interval?: number; output: string }) => {
        const { showStats } = await import('./commands/stats.js');
        await showStats(cli.roots, cli.namespace, pod, { ...opts, intervalMs: opts.interval }, out);
      },
    },
    { name: 'images', description: 'list images', action: listImages },
    {
      name: 'pull',
      description: 'pull an image from a registry (mirrors, insecure registries: <etc>/registries.json)',
      arguments: [['<image>', 'reference, e.g. nginx, registry.k8s.io/pause:3.9, repo@sha256:...']],
      options: [
        { flags: '--authfile <file>', description: 'docker-style auth.json with registry credentials (default: <etc>/auth.json)' },
        { flags: '-q, --quiet', description: 'print only the image name' },
      ],
      needsRoot: IMAGE_STORE,
      action: async (cli, ref: string, opts: { authfile?: string; quiet?: boolean }) => {
        const { pullCommand } = await import('./commands/pull.js');
        const { record } = await pullCommand(cli.roots, ref, opts);
        if (opts.quiet) line(record.name);
      },
    },
    { name: 'rmi', description: 'remove images (alias of image rm)', arguments: [['<names...>']], needsRoot: IMAGE_STORE, action: removeImages },
    {
      name: 'volume',
      description: 'named volumes (what persistentVolumeClaim volumes map to)',
      subcommands: [
        {
          name: 'ls',
          description: 'list named volumes: size, the pods that use them',
          action: async (cli) => {
            const { volumeTable } = await import('./commands/volumes.js');
            out(volumeTable(cli.roots));
          },
        },
        {
          name: 'rm',
          description: 'remove named volumes and their data (not while a pod uses them)',
          arguments: [['<name...>']],
          needsRoot: "it removes the volumes' data, owned by the containers' users",
          action: async (cli, names: string[]) => {
            const { removeVolumes } = await import('./commands/volumes.js');
            removeVolumes(cli.roots, cli.namespace, names, line);
          },
        },
        {
          name: 'prune',
          description: 'remove every named volume no pod uses',
          needsRoot: "it removes the volumes' data, owned by the containers' users",
          action: async (cli) => {
            const { pruneVolumes } = await import('./commands/volumes.js');
            pruneVolumes(cli.roots, line);
          },
        },
      ],
    },
    {
      name: 'image',
      description: 'manage local images',
      subcommands: [
        {
          name: 'prune',
          description: 'remove layers and blobs no image uses, and leftovers of interrupted pulls',
          needsRoot: IMAGE_STORE,
          action: async (cli) => {
            const { pruneImages } = await import('./commands/image.js');
            out(await pruneImages(cli.roots));
          },
        },
        {
          name: 'import',
          description: 'import a rootfs tarball (plain, gzip or zstd) as a one-layer image',
          arguments: [['<tarball>'], ['<name>']],
          needsRoot: IMAGE_STORE,
          action: async (cli, tarball: string, name: string) => {
            const { openStore } = await import('./commands/image.js');
            const record = await openStore(cli.roots).importRootfs(tarball, name);
            line(`${record.name} ${record.id}`);
          },
        },
        {
          name: 'load',
          description: 'load an OCI image-layout archive or a `docker save` archive',
          arguments: [['<archive>'], ['[name]', 'name for the image when the archive holds one']],
          needsRoot: IMAGE_STORE,
          action: async (cli, archive: string, name?: string) => {
            const { openStore } = await import('./commands/image.js');
            for (const record of await openStore(cli.roots).load(archive, name)) line(`Loaded image: ${record.name}`);
          },
        },
        { name: 'ls', description: 'list images', action: listImages },
        { name: 'rm', description: 'remove images (layers no other image uses go too)', arguments: [['<names...>']], needsRoot: IMAGE_STORE, action: removeImages },
      ],
    },
  ],
};
