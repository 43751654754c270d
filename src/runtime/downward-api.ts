/**
 * The files of downwardAPI volumes (and of projected volumes' downwardAPI sources), made as kubelet's
 * downwardapi.CollectData makes them: a pod field through fieldpath.ExtractFieldPathAsString, or a container's
 * resource through ExtractResourceValueByContainerNameAndNodeAllocatable, one file per item, no trailing
 * newline. `podns run` resolves them (it alone knows metadata.uid and the node's allocatable resources) and
 * writes the result into spec.json; the supervisor only writes the files.
 */
import { posix } from 'node:path';
import type { DownwardAPIVolumeSource, PodSpec, VolumeFile } from '../manifest/types.js';
import { fieldValue, resourceValue, type EnvContext } from './env.js';

/**
 * Go's strconv.Quote (`%q`): `"` and `\` backslashed, \a \b \f \n \r \t \v by name, other control characters as
 * \xHH, characters Go does not print (unicode.IsPrint: letters, marks, numbers, punctuation, symbols, and the
 * ASCII space) as \uHHHH or \UHHHHHHHH, the rest as they are. A lone surrogate is U+FFFD, which is what the
 * API server's JSON decoding leaves of one. Go's Unicode tables may be a version behind the JavaScript engine's:
 * a character assigned in between is printed here and escaped by Go.
 */
export function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    const c = String.fromCodePoint(cp);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (isPrintGo(c, cp)) out += c;
    else if (NAMED_ESCAPES[cp] !== undefined) out += NAMED_ESCAPES[cp];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

const NAMED_ESCAPES: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v' };
const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function isPrintGo(c: string, cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return GRAPHIC.test(c);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** kubelet's fieldpath.FormatMap: `key="value"` lines (value as %q), keys sorted, no newline after the last. */
export function formatMap(map: Record<string, string>): string {
  // Keys are qualified names, plain ASCII, so code-unit order is Go's byte order.
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${quoteGo(map[key]!)}`)
    .join('\n');
}

/** One item's content: labels and annotations as a whole, or what env's fieldRef and resourceFieldRef give. */
function itemContent(item: DownwardAPIVolumeSource['items'][number], pod: PodSpec, ctx: EnvContext): string {
  if (item.fieldRef) {
    const path = item.fieldRef.fieldPath;
    if (path === 'metadata.labels') return formatMap(ctx.metadata.labels);
    if (path === 'metadata.annotations') return formatMap(ctx.metadata.annotations);
    return fieldValue(path, pod, ctx);
  }
  const ref = item.resourceFieldRef!;
  // findContainerInPod: app containers, then init containers (the loader checked that one of them has the name).
  const target = [...pod.containers, ...(pod.initContainers ?? [])].find((c) => c.name === ref.containerName)!;
  return resourceValue(ref.resource, ref.divisor, target, ctx.node);
}

/** The files of one downwardAPI source: path cleaned (filepath.Clean), the item's mode or defaultMode. */
export function downwardAPIFiles(source: DownwardAPIVolumeSource, pod: PodSpec, ctx: EnvContext): VolumeFile[] {
  return source.items.map((item) => ({
    path: posix.normalize(item.path),
    mode: item.mode ?? source.defaultMode,
    data: Buffer.from(itemContent(item, pod, ctx), 'utf8').toString('base64'),
  }));
}

/** The pod spec with the files of every downwardAPI volume and projected downwardAPI source filled in. */
export function resolveDownwardAPI(pod: PodSpec, ctx: EnvContext): PodSpec {
  const resolve = (source: DownwardAPIVolumeSource): DownwardAPIVolumeSource => ({ ...source, files: downwardAPIFiles(source, pod, ctx) });
  return {
    ...pod,
    volumes: pod.volumes.map((v) => {
      if ('downwardAPI' in v) return { ...v, downwardAPI: resolve(v.downwardAPI) };
      if ('projected' in v) return { ...v, projected: { ...v.projected, sources: v.projected.sources.map((s) => ('downwardAPI' in s ? { downwardAPI: resolve(s.downwardAPI) } : s)) } };
      return v;
    }),
  };
}
