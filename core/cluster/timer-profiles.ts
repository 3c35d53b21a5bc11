/**
 * Timer profiles of the local control plane.
 *
 * A controller failover must never look like dead bases (ARCHITECTURE §2.3): in both profiles kmc's leader
 * lease is a fraction of the node-monitor grace — 6 s against 30 s in `fast`, the 8 s default against
 * Kubernetes' 50 s in `realistic` — so a new leader renews every VNode Lease long before the node-lifecycle
 * controller would call a node unreachable.
 */
export interface TimerProfile {
  readonly name: 'fast' | 'realistic';
  /** kube-controller-manager: how often node health is evaluated. */
  readonly nodeMonitorPeriod: string;
  /** kube-controller-manager: silence after which a node turns Ready=Unknown. */
  readonly nodeMonitorGracePeriod: string;
  readonly nodeStartupGracePeriod: string;
  /** kube-controller-manager: nodes per second that get the NoExecute taint (burst 1). */
  readonly nodeEvictionRate: string;
  /** kube-apiserver: tolerationSeconds injected for not-ready / unreachable into pods that set none. */
  readonly defaultTolerationSeconds: number;
  /** Leader-election timings kmc should use against this profile. */
  readonly leaderElection: {
    readonly leaseSeconds: number;
    readonly renewDeadlineSeconds: number;
    readonly retrySeconds: number;
  };
  /** API Priority and Fairness: kept on where figures must be realistic, off where tests want less overhead. */
  readonly priorityAndFairness: boolean;
}

export const FAST_PROFILE: TimerProfile = {
  name: 'fast',
  nodeMonitorPeriod: '1s',
  nodeMonitorGracePeriod: '30s',
  nodeStartupGracePeriod: '30s',
  nodeEvictionRate: '10',
  defaultTolerationSeconds: 5,
  leaderElection: { leaseSeconds: 6, renewDeadlineSeconds: 4, retrySeconds: 1 },
  priorityAndFairness: false,
};

/** Kubernetes' own defaults (1.32+), for the playground and benchmarks. */
export const REALISTIC_PROFILE: TimerProfile = {
  name: 'realistic',
  nodeMonitorPeriod: '5s',
  nodeMonitorGracePeriod: '50s',
  nodeStartupGracePeriod: '60s',
  nodeEvictionRate: '0.1',
  defaultTolerationSeconds: 300,
  leaderElection: { leaseSeconds: 8, renewDeadlineSeconds: 5, retrySeconds: 1 },
  priorityAndFairness: true,
};

export const TIMER_PROFILES = { fast: FAST_PROFILE, realistic: REALISTIC_PROFILE } as const;
export type TimerProfileName = keyof typeof TIMER_PROFILES;

export function timerProfile(name: string): TimerProfile {
  if (name === 'fast' || name === 'realistic') return TIMER_PROFILES[name];
  throw new Error(`unknown timer profile "${name}": use fast or realistic`);
}
