/**
 * Running one CNI plugin as the spec's protocol says (CNI spec v1.0.0, "Protocol parameters" and "Error"):
 * the plugin binary from the first bin dir that has it, parameters in CNI_* environment variables, the
 * network config on stdin, a result or an error as JSON on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CommandError, PodnsError } from '../errors.js';
import type { CommandRunner } from '../sys/command.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** A plugin's error answer (`{code, msg, details}`), one line: `cni plugin bridge: <msg> (<details>)`. */
export class CniPluginError extends PodnsError {
  /** The spec's error code (1-99 well-known, 100+ plugin-specific); undefined when the plugin gave none. */
  readonly cniCode: number | undefined;
  readonly plugin: string;
  readonly command: CniCommand;
  constructor(plugin: string, command: CniCommand, cniCode: number | undefined, msg: string, details?: string, options?: { cause?: unknown }) {
    super(`network.cni.${command.toLowerCase()}`, `cni plugin ${plugin}: ${oneLine(msg)}${details ? ` (${oneLine(details)})` : ''}`, options);
    this.cniCode = cniCode;
    this.plugin = plugin;
    this.command = command;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** The first of `binDirs` holding an executable `type` (libcni's FindInPath). */
export function findPlugin(type: string, binDirs: string[]): string {
  for (const dir of binDirs) {
    const file = path.join(dir, type);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not in this dir
    }
  }
  throw new PodnsError('network.cni', `cni plugin ${type}: not found in ${binDirs.join(', ')}`);
}

/**
 * A failing plugin writes its error JSON to stdout and exits non-zero, but a CommandError keeps only stderr.
 * So the plugin runs under `sh`, which passes stdout through on success and, on failure, appends it to
 * stderr after this marker line, keeping the plugin's exit status.
 */
export const PLUGIN_STDOUT_MARKER = 'podns-cni-stdout:';
const WRAPPER = `out=$("$0"); rc=$?; if [ "$rc" -eq 0 ]; then printf '%s' "$out"; else printf '\\n%s\\n%s\\n' '${PLUGIN_STDOUT_MARKER}' "$out" >&2; fi; exit "$rc"`;

/** The argv a plugin runs with (exported for tests that fake the runner). */
export function pluginArgv(pluginPath: string): string[] {
  return ['sh', '-c', WRAPPER, pluginPath];
}

export interface PluginInvocation {
  command: CniCommand;
  containerId: string;
  netnsPath: string;
  ifName: string;
  binDirs: string[];
  /** The full stdin config (see pluginStdin). */
  config: Record<string, unknown>;
}

/** Runs one plugin; returns its parsed result (ADD) or undefined (DEL, CHECK print nothing on success). */
export async function execPlugin(runner: CommandRunner, inv: PluginInvocation): Promise<object | undefined> {
  const type = String(inv.config.type);
  const env = {
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netnsPath,
    CNI_IFNAME: inv.ifName,
    CNI_PATH: inv.binDirs.join(':'),
  };
  const pluginPath = findPlugin(type, inv.binDirs);
  let stdout: string;
  try {
    ({ stdout } = await runner.run(pluginArgv(pluginPath), { input: JSON.stringify(inv.config), env, step: `network.cni.${inv.command.toLowerCase()}` }));
  } catch (err) {
    throw pluginFailure(type, inv.command, err);
  }
  if (!stdout.trim()) return undefined;
  try {
    return JSON.parse(stdout) as object;
  } catch {
    throw new CniPluginError(type, inv.command, undefined, `${inv.command} printed a result that is not JSON: ${stdout.trim().slice(0, 200)}`);
  }
}

/** The error JSON behind the marker when there is one, else the command's own message. */
function pluginFailure(type: string, command: CniCommand, err: unknown): PodnsError {
  if (!(err instanceof CommandError)) return new CniPluginError(type, command, undefined, (err as Error).message, undefined, { cause: err });
  const at = err.stderr.lastIndexOf(PLUGIN_STDOUT_MARKER);
  const out = at >= 0 ? err.stderr.slice(at + PLUGIN_STDOUT_MARKER.length).trim() : '';
  const before = (at >= 0 ? err.stderr.slice(0, at) : err.stderr).trim().split('\n').filter(Boolean).pop();
  try {
    const e = JSON.parse(out) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.msg === 'string') {
      return new CniPluginError(type, command, typeof e.code === 'number' ? e.code : undefined, e.msg, typeof e.details === 'string' ? e.details : undefined, { cause: err });
    }
  } catch {
    // not the spec's error JSON: fall through to what the plugin wrote
  }
  const exit = err.exitCode === undefined ? 'failed to start' : `exit ${err.exitCode}`;
  return new CniPluginError(type, command, undefined, `${command} failed (${exit})${out || before ? `: ${out || before}` : ''}`, undefined, { cause: err });
}
