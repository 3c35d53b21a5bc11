/**
 * The scheduling policy of a pod (ARCHITECTURE §3.6 `schedulingPolicy`): the scheduler plugin's `policy`, which a
 * Deployment's annotation overrides, which the pod's own annotation (set in any workload's template) overrides,
 * which the `spec.strategy.schedulingPolicy` of the pod's ModuleRollout overrides (ModuleRollout spec >
 * annotation > config). A bad value is reported and ignored, never fatal. Pure.
 */
export const SCHEDULING_POLICIES = ['scatter', 'stacking'] as const;
export type SchedulingPolicy = (typeof SCHEDULING_POLICIES)[number];

export const SCHEDULING_POLICY_ANNOTATION = 'rollout.koupleless.io/scheduling-policy';

export interface ResolvedPolicy {
  readonly policy: SchedulingPolicy;
  /** Where it came from, for the Scheduled Event. */
  readonly from: 'rollout' | 'pod' | 'deployment' | 'config';
  /** The ModuleRollout it came from, when `from` is 'rollout'. */
  readonly rollout?: string;
  /** Annotations that could not be read, for a Warning Event. */
  readonly problems: readonly string[];
}

export function resolvePolicy(
  configured: SchedulingPolicy,
  deploymentAnnotations: Readonly<Record<string, string>> | undefined,
  podAnnotations: Readonly<Record<string, string>> | undefined,
  rollout?: { readonly name: string; readonly schedulingPolicy: string | undefined },
): ResolvedPolicy {
  const problems: string[] = [];
  const ofRollout = rollout?.schedulingPolicy;
  if (rollout && ofRollout !== undefined) {
    if (isPolicy(ofRollout)) return { policy: ofRollout, from: 'rollout', rollout: rollout.name, problems };
    // The CRD's enum refuses it; an older CRD without it would have pruned the field, so this is a safety net.
    problems.push(
      `ModuleRollout ${rollout.name} spec.strategy.schedulingPolicy: "${ofRollout}" is not "scatter" or "stacking"; ignored`,
    );
  }
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

/** Where the policy came from, as the Scheduled Event says it (nothing for the config's own). */
export function policySource(resolved: ResolvedPolicy): string {
  switch (resolved.from) {
    case 'config':
      return '';
    case 'rollout':
      return ` (from ModuleRollout ${resolved.rollout ?? ''})`;
    case 'pod':
    case 'deployment':
      return ` (from the ${resolved.from} annotation)`;
  }
}
