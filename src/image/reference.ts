/**
 * Image references, normalised the way Docker does it (distribution/reference, `ParseNormalizedNamed` +
 * `TagNameOnly`): `nginx` -> `docker.io/library/nginx:latest`. The store keys images by this form, so every
 * spelling of a name finds the same image.
 */
import { UserError } from '../errors.js';

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

// The grammar of distribution/reference/regexp.go.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/;

export interface ParsedReference {
  /** Registry host (with port), e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Repository path, e.g. `library/nginx`. */
  path: string;
  tag?: string;
  digest?: string;
}

/** Parses and normalises `ref`; throws UserError('EBADREF') when it is not a valid reference. */
export function parseImageReference(ref: string): ParsedReference {
  const bad = (why: string): UserError => new UserError('EBADREF', `invalid image reference "${ref}": ${why}`);
  if (ref.length === 0) throw bad('empty');
  if (ANCHORED_ID_RE.test(ref)) throw bad('cannot specify a 64-byte hexadecimal string as a name');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad('invalid digest format');
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw bad('invalid sha256 digest');
  }
  let tag: string | undefined;
  // A tag follows the last ':' only when no '/' comes after it (otherwise the ':' belongs to a port).
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad('invalid tag format');
  }

  // splitDockerDomain: the first component is a registry only if it looks like a host.
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;

  if (!DOMAIN_RE.test(domain)) throw bad('invalid registry host');
  if (path.toLowerCase() !== path) throw bad('repository name must be lowercase');
  if (!PATH_RE.test(path)) throw bad('invalid repository name');
  if (`${domain}/${path}`.length > NAME_TOTAL_LENGTH_MAX) {
    throw bad(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  // TagNameOnly: a bare name means :latest; a digest-only reference stays as it is.
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, tag, digest };
}

/** Docker's normal form: `nginx` -> `docker.io/library/nginx:latest`; keeps `@sha256:` digests. */
export function normalizeImageReference(ref: string): string {
  return formatImageReference(parseImageReference(ref));
}

export function formatImageReference(parsed: ParsedReference): string {
  return `${parsed.domain}/${parsed.path}${parsed.tag !== undefined ? `:${parsed.tag}` : ''}${parsed.digest !== undefined ? `@${parsed.digest}` : ''}`;
}
