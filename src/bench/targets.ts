/**
 * The targets the bench checks its figures against, and the figures of other runtimes it prints beside them.
 * Both are quoted from issue 12 ("One supervisor for every pod"): the bench never measures podman or
 * containerd, and every printed anchor says so.
 */

/** A target on a median: an absolute time, or a multiple of `node -e 0` measured in the same run. */
export type Target = { kind: 'ms'; value: number } | { kind: 'ratioToNode'; value: number };

export const TARGETS = {
  runToRunning: { kind: 'ms', value: 100 },
  runToHttp: { kind: 'ms', value: 130 },
  exec: { kind: 'ms', value: 45 },
  rmForce: { kind: 'ms', value: 60 },
  /** `podns ps` with 100 pods running. */
  psAtScale: { kind: 'ms', value: 150 },
  /** ps, logs, images, inspect, stop. */
  everyday: { kind: 'ratioToNode', value: 1.3 },
} as const satisfies Record<string, Target>;

/** Memory and scale targets (issue 12). */
export const SCALE_TARGETS = {
  supervisorIdleRssMb: 70,
  perPodPssMb: 0.5,
  /** The pod count the ps and sequential-start targets are stated for. */
  pods: 100,
  sequentialTotalS: 15,
};

/** Quoted from issue 12, measured there side by side on this machine kind; never measured by this bench. */
export const QUOTED = {
  source: 'issue 12 (quoted, not measured by this bench)',
  podman: {
    runToRunning: 479,
    runToHttp: 639,
    exec: 166,
    rmForce: 3675,
    ps: 41,
    logs: 37,
    perPodPssMbAtFifty: 1.1,
    onePodPssMb: 3.1,
  },
  containerd: { perPodPssMb: 5.3, daemonMb: 49 },
} as const;

/** Whether a median meets its target; undefined when either is not a number. */
export function meets(target: Target, median: number, nodeMedian: number): boolean | undefined {
  const value = target.kind === 'ms' ? median : median / nodeMedian;
  return Number.isFinite(value) ? value <= target.value : undefined;
}

export function describeTarget(target: Target): string {
  return target.kind === 'ms' ? `≤ ${target.value} ms` : `≤ ${target.value}x node`;
}
