/** The shapes of `kubectl koupleless plan`: what it reads (PlanInput) and what it shows (PlanModel). */
import type { V1Deployment, V1Node, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { ModuleRollout } from '../../rollout/module-rollout.ts';
import type { Strategy } from '../../rollout/strategy.ts';
import type { PlanConfig } from './plan-config.ts';

export interface PlanModel {
  readonly namespace: string;
  readonly deployment: string;
  /** What was planned: the `-f` manifest as the next revision, or the Deployment's current spec as one. */
  readonly subject: 'manifest' | 'deployment';
  readonly exists: boolean;
  readonly config: {
    readonly file: string | undefined;
    readonly plugins: readonly string[];
    readonly implicit: readonly string[];
  };
  readonly kind: PlanKind;
  /** First installs (unless batched by config), fast undos, `Recreate`, Deployments kmc does not manage. */
  readonly unbatched: boolean;
  /** Why the rollout is unbatched or absent, in a sentence. */
  readonly why: string | undefined;
  readonly stableRevision: number | undefined;
  readonly targetRevision: number;
  /** The ModuleRollout the controller will create (wait on it: `kubectl wait modulerollout/<name>`). */
  readonly rollout: string;
  readonly replicas: number;
  /** Where the replica count comes from: the spec, or the matching bases of a peer Deployment. */
  readonly replicasFrom: 'spec' | 'peer';
  readonly strategy: Strategy;
  /** Per strategy field: whence its value (precedence: annotation > config > default). */
  readonly sources: Readonly<Record<StrategyField, 'annotation' | 'config' | 'default'>>;
  /** Cumulative targets, as ModuleRollout `status.plan` will show them. */
  readonly plan: readonly number[];
  readonly batches: readonly PlannedBatch[];
  readonly budgets: Budgets;
  readonly bases: BasesLine;
  readonly progressDeadlineSeconds: number;
  readonly warnings: readonly PlanWarning[];
  readonly notes: readonly string[];
}

export type PlanKind = 'first-install' | 'update' | 'undo' | 'none';

export type StrategyField =
  'batchCount' | 'batchSizes' | 'beta' | 'needConfirm' | 'graySeconds' | 'maxUnavailable' | 'undo';

export interface PlannedBatch {
  readonly index: number;
  readonly size: number;
  /** Cumulative: pods whose module runs the new version once this batch is done. */
  readonly target: number;
  /** Holds before the batch starts, in the order the controller asks its plugins. */
  readonly holds: readonly PlannedHold[];
  /** The bases the rollout has reached once this batch is done, where that is determined. */
  readonly bases: readonly string[] | undefined;
}

export interface PlannedHold {
  readonly reason: string;
  /** True: the batch waits for it every time; false: only when the condition described holds then. */
  readonly certain: boolean;
  readonly detail: string;
}

export interface Budgets {
  readonly deployment: {
    readonly type: 'RollingUpdate' | 'Recreate';
    readonly maxSurge: { readonly value: number | string; readonly pods: number };
    readonly maxUnavailable: { readonly value: number | string; readonly pods: number };
  };
  /** The max-unavailable plugin's (or annotation's) budget; undefined when none is set. */
  readonly plugin: { readonly value: number | string; readonly pods: number } | undefined;
  /** What the engine holds for: the smaller of the two; undefined without a plugin budget. */
  readonly effective: number | undefined;
}

export interface BasesLine {
  /** Ready, schedulable VNodes the new template may run on (node affinity, nodeSelector, taints). */
  readonly matching: readonly string[];
  /** How many pods of the Deployment a base may run, by the template's required anti-affinity on hostname. */
  readonly spread: Spread;
  /** VNodes running a pod of the Deployment now. */
  readonly running: readonly string[];
  /** Bases whose activation mode kmc recorded as installs-deactivated (they update uninstall-first). */
  readonly uninstallFirst: readonly string[];
  /** Bases that run the module and have not shown their activation mode yet. */
  readonly modeUnknown: readonly string[];
  /** Batches are base sets (peer Deployments) or pod counts placed by the scheduler. */
  readonly sets: 'peer' | 'pod-counts';
}

/**
 * `one-per-base`: at most one pod of the Deployment on a base, whatever its revision (old and new pods avoid
 * each other); `one-per-base-per-revision`: two pods of one revision never share a base, a new one may land beside
 * an old one (matchLabelKeys [pod-template-hash], the corrected example); `any`: no such rule.
 */
export type Spread = 'one-per-base' | 'one-per-base-per-revision' | 'any';

export type WarningCode =
  | 'ProgressDeadlineRisk'
  | 'SurgeCannotFit'
  | 'AntiAffinityCannotRoll'
  | 'PodsCannotFit'
  | 'NoMatchingBase'
  | 'SpreadKeyMissing'
  | 'UninstallFirst'
  | 'BadAnnotation'
  | 'RolloutInProgress'
  | 'Paused'
  | 'NotManaged'
  | 'PeerWithoutSyncer';

export interface PlanWarning {
  readonly code: WarningCode;
  readonly message: string;
}

export interface PlanInput {
  readonly namespace: string;
  readonly name: string;
  /** The Deployment in the cluster; undefined when it does not exist yet. */
  readonly current: V1Deployment | undefined;
  /** The spec planned: the manifest as the API server would store it, or the current Deployment. */
  readonly next: V1Deployment;
  readonly subject: 'manifest' | 'deployment';
  /**
   * `next` went through the API server's defaulting (a server-side dry run), so its template can be compared
   * with the ReplicaSets' exactly; otherwise templates are compared by their modules.
   */
  readonly defaulted: boolean;
  /** The current Deployment's ReplicaSets. */
  readonly replicaSets: readonly V1ReplicaSet[];
  /** The current Deployment's ModuleRollouts. */
  readonly rollouts: readonly ModuleRollout[];
  /** The ModuleRollout CRD is not installed: kmc then rolls every Deployment natively. */
  readonly crdMissing?: boolean;
  /** The current Deployment's pods. */
  readonly pods: readonly V1Pod[];
  /** kmc's VNodes. */
  readonly nodes: readonly V1Node[];
  readonly config: PlanConfig;
  readonly now: number;
}
