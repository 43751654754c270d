/**
 * podns's registry configuration (`registries.json` in the etc root) and docker-style credentials
 * (`auth.json`/`config.json`: `{"auths": {"HOST": {"auth": base64("user:pass")}}}`, as docker, podman and
 * skopeo write them). Both files are optional; a malformed one is an error, never silently ignored.
 *
 *   { "mirrors": { "docker.io": ["http://127.0.0.1:5000"] }, "insecure": ["myreg:5000"], "noUpstream": ["docker.io"] }
 *
 * `noUpstream` lists registries reached only through their mirrors (an air-gapped node, or a test that must
 * not leave 127.0.0.1).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, fromNodeError } from '../../errors.js';

export interface RegistryConfig {
  /** Registry domain (as in a normalised reference: `docker.io`) -> mirror base URLs, tried in order. */
  mirrors: Record<string, string[]>;
  /** `host[:port]` reached over plain HTTP (127.0.0.0/8 and localhost always are). */
  insecure: string[];
  /** Registries never contacted directly, only through their mirrors. */
  noUpstream: string[];
}

export interface Credentials {
  username: string;
  password: string;
}

const STEP = 'image.registryConfig';

async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeError(STEP, err, `read "${file}"`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('EBADCONFIG', `"${file}" is not valid JSON: ${(err as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Checks and normalises a parsed registries.json. */
export function parseRegistryConfig(raw: unknown, file: string): RegistryConfig {
  const config: RegistryConfig = { mirrors: {}, insecure: [], noUpstream: [] };
  if (raw === undefined) return config;
  const bad = (why: string) => new UserError('EBADCONFIG', `"${file}": ${why}`);
  if (!isObject(raw)) throw bad('must be a JSON object');
  if (raw.mirrors !== undefined) {
    if (!isObject(raw.mirrors)) throw bad('"mirrors" must map a registry to a list of URLs');
    for (const [registry, urls] of Object.entries(raw.mirrors)) {
      if (!isStringList(urls)) throw bad(`"mirrors.${registry}" must be a list of URLs`);
      for (const url of urls) {
        if (!/^https?:\/\/[^/]+/.test(url)) throw bad(`"mirrors.${registry}": "${url}" is not an http(s) URL`);
      }
      config.mirrors[registry] = urls.map((u) => u.replace(/\/+$/, ''));
    }
  }
  for (const key of ['insecure', 'noUpstream'] as const) {
    if (raw[key] === undefined) continue;
    if (!isStringList(raw[key])) throw bad(`"${key}" must be a list of registry hosts`);
    config[key] = [...raw[key]];
  }
  return config;
}

/** registries.json from the etc root (`/etc/podns` or `$PODNS_ROOT/etc`). */
export async function loadRegistryConfig(etcDir: string): Promise<RegistryConfig> {
  const file = path.join(etcDir, 'registries.json');
  return parseRegistryConfig(await readJsonIfPresent(file), file);
}

/** The keys docker's config.json uses for Docker Hub, besides `docker.io`. */
const DOCKER_HUB_KEYS = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'];

/** Looks up credentials for `registry` in a parsed auth file (keys may be hosts or URLs). */
export function findCredentials(raw: unknown, registry: string, file: string): Credentials | undefined {
  if (!isObject(raw) || !isObject(raw.auths)) return undefined;
  const wanted = registry === 'docker.io' ? DOCKER_HUB_KEYS : [registry];
  for (const [key, entry] of Object.entries(raw.auths)) {
    const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (!wanted.includes(key) && !wanted.includes(host)) continue;
    if (!isObject(entry)) continue;
    if (typeof entry.username === 'string' && typeof entry.password === 'string') {
      return { username: entry.username, password: entry.password };
    }
    if (typeof entry.auth === 'string') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) throw new UserError('EBADCONFIG', `"${file}": the auth entry for "${key}" is not base64("user:password")`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}

/**
 * Credentials for `registry`: `--authfile` when given (it must exist), else `<etc>/auth.json`. Returns a
 * lookup so the files are read once per pull.
 */
export async function loadCredentials(etcDir: string, authFile?: string): Promise<(registry: string) => Credentials | undefined> {
  const file = authFile ?? path.join(etcDir, 'auth.json');
  const raw = await readJsonIfPresent(file);
  if (raw === undefined && authFile !== undefined) throw new UserError('ENOENT', `auth file "${authFile}" does not exist`);
  return (registry) => findCredentials(raw, registry, file);
}
