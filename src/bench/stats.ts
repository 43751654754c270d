/** Order statistics of a sample of timings (ms). Pure; unit-tested in test/unit/bench/stats.test.ts. */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** The median; the mean of the two middle values for an even count. NaN for an empty sample. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** a / b, or NaN when b is not a positive finite number. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

/** A sample with its summary, as the JSON report carries it. */
export interface Series extends Summary {
  samples: number[];
}

export function series(samples: readonly number[]): Series {
  return { ...summarize(samples), samples: [...samples] };
}
