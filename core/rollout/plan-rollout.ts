import type { Hooks } from '../hooks.ts';
import { planByCount, planBySizes } from './batch-planner.ts';
import type { RolloutView } from './rollout-types.ts';

/**
 * A rollout's plan: explicit sizes or the batch count first, then every plugin's `planBatches` tap (beta-first,
 * custom planners). The one definition the rollout engine and `kubectl koupleless plan` share.
 */
export function planRollout(hooks: Pick<Hooks, 'planBatches'>, view: RolloutView): number[] {
  const { strategy, replicas } = view;
  const base = strategy.batchSizes
    ? planBySizes(replicas, strategy.batchSizes)
    : planByCount(replicas, strategy.batchCount, strategy.beta);
  return [...hooks.planBatches.call({ targets: base }, { ...view, plan: base }).targets];
}
