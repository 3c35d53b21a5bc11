import type { V1Deployment } from '@kubernetes/client-node';
import { unavailableBudget } from './batch-planner.ts';

/**
 * The Deployment's own maxUnavailable as its controller resolves it: percentages of the replicas rounded down
 * (maxSurge rounded up), defaults 25 % / 25 %, and 1 when both come out 0. `Recreate` allows everything.
 */
export function deploymentMaxUnavailable(deployment: V1Deployment, replicas: number): number {
  if (deployment.spec?.strategy?.type === 'Recreate') return replicas;
  const rolling = deployment.spec?.strategy?.rollingUpdate;
  const unavailable = unavailableBudget(intOrPercent(rolling?.maxUnavailable) ?? '25%', replicas) ?? 0;
  const surge = surgePods(intOrPercent(rolling?.maxSurge) ?? '25%', replicas);
  return unavailable === 0 && surge === 0 ? 1 : unavailable;
}

/**
 * The unavailability budget of a rollout (ARCHITECTURE §3.6): the smaller of the strategy's (the max-unavailable
 * plugin, its annotation or the ModuleRollout spec) and the Deployment's own; undefined when no budget is set.
 */
export function effectiveBudget(
  strategyValue: number | string | undefined,
  deployment: V1Deployment,
  replicas: number,
): number | undefined {
  const own = unavailableBudget(strategyValue, replicas);
  if (own === undefined) return undefined;
  return Math.min(own, deploymentMaxUnavailable(deployment, replicas));
}

/** An IntOrString field of the Deployment's strategy, as a count or a percentage. */
export function intOrPercent(value: unknown): number | string | undefined {
  return typeof value === 'number' || typeof value === 'string' ? value : undefined;
}

/** maxSurge in pods, as the Deployment controller rounds it (a percentage rounds up). */
export function surgePods(value: number | string, replicas: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  return match?.[1] ? Math.ceil((Number(match[1]) / 100) * replicas) : Number(value) || 0;
}
