/**
 * Name rules from k8s.io/apimachinery/pkg/util/validation. Each check returns why a value is invalid,
 * or undefined when it is valid.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function checkDns1123Label(s: string): string | undefined {
  if (s.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(s)) {
    return "must be a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter or digit)";
  }
  return undefined;
}

export function checkDns1123Subdomain(s: string): string | undefined {
  if (s.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(s)) {
    return "must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.', starting and ending with a letter or digit)";
  }
  return undefined;
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS-1123 subdomain, name ≤ 63 characters. */
export function checkQualifiedName(s: string): string | undefined {
  const parts = s.split('/');
  if (parts.length > 2) return "must be a qualified name: an optional DNS subdomain prefix and '/', then a name";
  const name = parts.at(-1)!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') return 'prefix part must be non-empty';
    const bad = checkDns1123Subdomain(prefix);
    if (bad) return `prefix part ${bad}`;
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

export function checkLabelValue(s: string): string | undefined {
  if (s.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(s)) {
    return "must be empty or consist of alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";
  }
  return undefined;
}

/**
 * Port names (IANA_SVC_NAME): ≤ 15 characters, a-z 0-9 '-', at least one letter, no '--', no '-' at the ends.
 * The first of apimachinery's IsValidPortName messages, in its words (the API server lists them all).
 */
export function checkPortName(s: string): string | undefined {
  if (s.length > 15) return 'must be no more than 15 characters';
  if (!/^[-a-z0-9]+$/.test(s)) return 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)';
  if (!/[a-z]/.test(s)) return 'must contain at least one letter (a-z)';
  if (s.includes('--')) return 'must not contain consecutive hyphens';
  if (s.startsWith('-') || s.endsWith('-')) return 'must not begin or end with a hyphen';
  return undefined;
}

/** Environment variable names, as relaxed in Kubernetes 1.32+: printable ASCII except '='. */
export function checkEnvVarName(s: string): string | undefined {
  if (s === '') return 'must not be empty';
  if (!/^[\x20-\x7e]+$/.test(s) || s.includes('=')) return "must consist of printable ASCII characters other than '='";
  return undefined;
}
