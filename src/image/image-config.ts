/**
 * Picks the fields podns uses out of an OCI image config (image-spec config.md) or a docker image JSON;
 * both keep them under `config` with the same names. Wrong-typed fields are dropped, not trusted.
 */
import type { ImageConfig } from './types.js';

export function pickImageConfig(raw: unknown): { config: ImageConfig; created?: string } {
  const doc = isObject(raw) ? raw : {};
  const src = isObject(doc.config) ? doc.config : {};
  const config: ImageConfig = {};
  const strings = (v: unknown): string[] | undefined =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? [...(v as string[])] : undefined;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

  const entrypoint = strings(src.Entrypoint);
  if (entrypoint) config.Entrypoint = entrypoint;
  const cmd = strings(src.Cmd);
  if (cmd) config.Cmd = cmd;
  const env = strings(src.Env);
  if (env) config.Env = env;
  const workingDir = text(src.WorkingDir);
  if (workingDir) config.WorkingDir = workingDir;
  const user = text(src.User);
  if (user) config.User = user;
  const stopSignal = text(src.StopSignal);
  if (stopSignal) config.StopSignal = stopSignal;
  if (isObject(src.ExposedPorts)) {
    config.ExposedPorts = Object.fromEntries(Object.keys(src.ExposedPorts).map((port) => [port, {}]));
  }
  if (isObject(src.Labels)) {
    const labels = Object.entries(src.Labels).filter((kv): kv is [string, string] => typeof kv[1] === 'string');
    config.Labels = Object.fromEntries(labels);
  }
  const created =
    typeof doc.created === 'string' && !Number.isNaN(Date.parse(doc.created)) ? new Date(doc.created).toISOString() : undefined;
  return { config, created };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
