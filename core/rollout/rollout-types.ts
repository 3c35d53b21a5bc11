import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Strategy } from './strategy.ts';

/**
 * The rollout engine's view of one rollout, handed to rollout hooks. All of it is derived from Kubernetes
 * objects (the Deployment, its ReplicaSets, the ModuleRollout), so plugins keep no state of their own.
 */
export interface RolloutView {
  readonly namespace: string;
  readonly deployment: V1Deployment;
  /** The ModuleRollout's name: `<deployment>-r<revision>`. */
  readonly name: string;
  readonly stableRevision: number | undefined;
  readonly targetRevision: number;
  /** Desired replicas of the Deployment (after `desiredReplicas`). */
  readonly replicas: number;
  /** Batch in progress or last completed, 1-based; 0 before the first. */
  readonly currentBatch: number;
  /** Per-batch timestamps (ms since epoch) as recorded in the ModuleRollout status. */
  readonly batches: readonly BatchRecord[];
  /** The strategy after precedence (ModuleRollout spec > Deployment annotation > config > default). */
  readonly strategy: Strategy;
  /** The plan as it stands (cumulative targets); empty before it is made. */
  readonly plan: readonly number[];
  /** Pods of the target revision Ready for the Deployment's minReadySeconds. */
  readonly updatedAvailable: number;
  /** First installs and fast undos go straight through: no batches, no holds. */
  readonly unbatched: boolean;
  /** The latest human confirmation (spec.confirmedBatch), 0 when none. */
  readonly confirmedBatch: number;
  /** Whether this is a first install, a pure scale, an undo. */
  readonly kind: 'first-install' | 'update' | 'undo';
  /**
   * The engine's instant (ms since epoch) for this decision: the one batch times are recorded with, so a
   * time-based hold (gray time, release windows) agrees with the status it is compared to.
   */
  readonly now: number;
}

export interface BatchRecord {
  readonly index: number;
  /** Cumulative target: pods whose module is ACTIVATED at the target version once this batch is done. */
  readonly target: number;
  readonly startedAt?: number;
  readonly completedAt?: number;
}

/** Cumulative targets, for example [1, 6, 10]. */
export interface Plan {
  readonly targets: readonly number[];
}

/** The batch a hold or completion check is about. */
export interface Batch {
  /** 1-based. */
  readonly index: number;
  readonly target: number;
  readonly previousTarget: number;
  /** The pods of the target revision counted for this batch. */
  readonly pods: readonly V1Pod[];
}

/** A Deployment pod's rollout, as `holdInstall` taps see it. */
export interface PodRollout {
  readonly view: RolloutView;
  /** The pod's revision relative to the rollout: its target, its stable revision, or another one. */
  readonly podRevision: 'target' | 'stable' | 'other';
  /** Every pod of the Deployment (all revisions), those being deleted too. */
  readonly pods: readonly V1Pod[];
  /** The pods of the target revision among them. */
  readonly targetPods: readonly V1Pod[];
}
