/**
 * The grammar of image references (distribution/reference, `ParseNormalizedNamed` + `TagNameOnly`): a
 * reference split into registry, repository, tag and digest, normalised the way Docker does it (`nginx` ->
 * docker.io, library/nginx, latest), or the reason it is not one. Here, in the leaf, so that a manifest's
 * `image` is refused at its file:line; ../image/reference.ts builds the store's names on it.
 */

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

/** What readImageReference makes of a string: the parts, or why it is not a reference. */
export type ImageReferenceReading = { ok: true; parsed: ParsedReference } | { ok: false; problem: string };

/** Parses and normalises `ref`, or says what is wrong with it (in distribution/reference's words). */
export function readImageReference(ref: string): ImageReferenceReading {
  const bad = (problem: string): ImageReferenceReading => ({ ok: false, problem });
  if (ref.length === 0) return bad('empty');
  if (ANCHORED_ID_RE.test(ref)) return bad('cannot specify a 64-byte hexadecimal string as a name');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return bad('invalid digest format');
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) return bad('invalid sha256 digest');
  }
  let tag: string | undefined;
  // A tag follows the last ':' only when no '/' comes after it (otherwise the ':' belongs to a port).
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) return bad('invalid tag format');
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

  if (!DOMAIN_RE.test(domain)) return bad('invalid registry host');
  if (path.toLowerCase() !== path) return bad('repository name must be lowercase');
  if (!PATH_RE.test(path)) return bad('invalid repository name');
  if (`${domain}/${path}`.length > NAME_TOTAL_LENGTH_MAX) {
    return bad(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  // TagNameOnly: a bare name means :latest; a digest-only reference stays as it is.
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { ok: true, parsed: { domain, path, tag, digest } };
}
