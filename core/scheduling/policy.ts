/**
 * The scheduling policy of a pod (ARCHITECTURE §3.6 `schedulingPolicy`): the scheduler plugin's `policy`, which a
 * Deployment's annotation overrides, which the pod's own annotation (set in any workload's template) overrides.
 * A bad value is reported and ignored, never fatal. Pure.
 */
export const SCHEDULING_POLICIES = ['scatter', 'stacking'] as const;
export type SchedulingPolicy = (typeof SCHEDULING_POLICIES)[number];

export const SCHEDULING_POLICY_ANNOTATION = 'rollout.koupleless.io/scheduling-policy';

export interface ResolvedPolicy {
  readonly policy: SchedulingPolicy;
  /** Where it came from, for the Scheduled Event. */
  readonly from: 'pod' | 'deployment' | 'config';
  /** Annotations that could not be read, for a Warning Event. */
  readonly problems: readonly string[];
}

export function resolvePolicy(
  configured: SchedulingPolicy,
  deploymentAnnotations: Readonly<Record<string, string>> | undefined,
  podAnnotations: Readonly<Record<string, string>> | undefined,
): ResolvedPolicy {
  const problems: string[] = [];
  const read = (annotations: Readonly<Record<string, string>> | undefined, on: string) => {
    const value = annotations?.[SCHEDULING_POLICY_ANNOTATION];
    if (value === undefined) return undefined;
    if (isPolicy(value)) return value;
    problems.push(
      `annotation ${SCHEDULING_POLICY_ANNOTATION} on the ${on}: "${value}" is not "scatter" or "stacking"; ignored`,
    );
    return undefined;
  };
  const onPod = read(podAnnotations, 'pod');
  const onDeployment = read(deploymentAnnotations, 'Deployment');
  if (onPod) return { policy: onPod, from: 'pod', problems };
  if (onDeployment) return { policy: onDeployment, from: 'deployment', problems };
  return { policy: configured, from: 'config', problems };
}

function isPolicy(value: string): value is SchedulingPolicy {
  return (SCHEDULING_POLICIES as readonly string[]).includes(value);
}
