/**
 * projected volumes, validated as the API server's validateProjectedVolumeSource does: one kind per source,
 * the sources' item paths unique across the volume, a serviceAccountToken's expiration bounds and path. The
 * configMap and secret sources get their files from resolveConfigRefs, the downwardAPI ones from `podns run`.
 */

import { posix } from 'node:path';
import type { Plain } from './check-fields.js';
import { buildConfigVolume, checkMode, DEFAULT_MODE } from './config-refs.js';
import { buildDownwardAPI } from './downward-api.js';
import type { Reporter } from './reporter.js';
import type { ProjectedVolumeSource, VolumeProjection } from './types.js';

const KINDS = ['configMap', 'secret', 'downwardAPI', 'serviceAccountToken'] as const;

/** The API server's defaulting (SetDefaults_ServiceAccountTokenProjection) and bounds, in seconds. */
const TOKEN_EXPIRATION = { default: 3600, min: 10 * 60, max: 2 ** 32 };

export function buildProjected(r: Reporter, v: Plain, path: string): ProjectedVolumeSource {
  const defaultMode = checkMode(r, `${path}.defaultMode`, v.defaultMode) ?? DEFAULT_MODE;
  const paths: { path: string; at: string }[] = [];
  const sources = ((v.sources as Plain[] | undefined) ?? []).flatMap((s, i): VolumeProjection[] => {
    const at = `${path}.sources[${i}]`;
    const kinds = KINDS.filter((k) => s[k] !== undefined);
    if (kinds.length > 1) r.fail(at, 'may not specify more than 1 volume type per source', `${at}.${kinds[1]}`);
    // An entry with no source at all passes the API server's validation and projects nothing.
    const kind = kinds[0];
    if (kind === undefined) return [];
    const body = s[kind] as Plain;
    switch (kind) {
      case 'configMap':
      case 'secret': {
        const source = buildConfigVolume(r, body, `${at}.${kind}`, kind, { defaultMode });
        (source.items ?? []).forEach((item, j) => paths.push({ path: item.path, at: `${at}.${kind}.items[${j}].path` }));
        return [kind === 'configMap' ? { configMap: source } : { secret: source }];
      }
      case 'downwardAPI': {
        const source = buildDownwardAPI(r, body, `${at}.downwardAPI`, { defaultMode });
        source.items.forEach((item, j) => paths.push({ path: item.path, at: `${at}.downwardAPI.items[${j}].path` }));
        return [{ downwardAPI: source }];
      }
      case 'serviceAccountToken': {
        const tokenAt = `${at}.serviceAccountToken`;
        const expirationSeconds = (body.expirationSeconds as number | undefined) ?? TOKEN_EXPIRATION.default;
        if (expirationSeconds < TOKEN_EXPIRATION.min) r.fail(`${tokenAt}.expirationSeconds`, `invalid value ${expirationSeconds}: may not specify a duration less than 10 minutes`);
        if (expirationSeconds > TOKEN_EXPIRATION.max) r.fail(`${tokenAt}.expirationSeconds`, `invalid value ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`);
        r.localNonReservedPath(`${tokenAt}.path`, body.path as string);
        const token: { path: string; expirationSeconds: number; audience?: string } = { path: body.path as string, expirationSeconds };
        if (body.audience) token.audience = body.audience as string;
        return [{ serviceAccountToken: token }];
      }
    }
  });
  // The API server's "conflicting duplicate paths" across sources (a token's path is not among them, as there).
  r.noDuplicates('path', paths.map((p) => posix.normalize(p.path)), (i) => paths[i]!.at);
  return { defaultMode, sources };
}
