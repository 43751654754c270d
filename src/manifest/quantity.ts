/**
 * Kubernetes resource quantities (`128Mi`, `1G`, `500m`, `1e3`, `1.5`), as defined by
 * k8s.io/apimachinery/pkg/api/resource: a signed decimal number followed by one binary-SI suffix
 * (Ki..Ei), one decimal-SI suffix (n, u, m, k, M, G, T, P, E) or a decimal exponent (e3, E-2).
 */

const MULTIPLIER: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// The exponent alternative comes first so that `1e3` is 1000 while `1E` is one exa.
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/**
 * The value of a quantity in base units (bytes for memory, cores for CPU): `128Mi` → 134217728,
 * `500m` → 0.5. Throws an Error naming the bad text when `s` is not a quantity.
 */
export function parseQuantity(s: string): number {
  const m = QUANTITY.exec(s);
  if (!m) {
    throw new Error(`invalid quantity ${JSON.stringify(s)} (expected a number with an optional suffix such as 128Mi, 1G, 500m or 1e3)`);
  }
  const [, sign, digits, exponent, suffix] = m;
  const magnitude = exponent !== undefined ? Number(digits) * 10 ** Number(exponent) : Number(digits) * MULTIPLIER[suffix ?? '']!;
  if (!Number.isFinite(magnitude)) throw new Error(`quantity ${JSON.stringify(s)} is too large`);
  return sign === '-' ? -magnitude : magnitude;
}
