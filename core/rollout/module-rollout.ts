import type { V1ObjectMeta } from '@kubernetes/client-node';

/** The ModuleRollout custom resource (examples/deploy/crds/modulerollouts.rollout.koupleless.io.yaml). */
export const ROLLOUT_GROUP = 'rollout.koupleless.io';
export const ROLLOUT_VERSION = 'v1alpha1';
export const ROLLOUT_PLURAL = 'modulerollouts';
export const ROLLOUT_KIND = 'ModuleRollout';
export const ROLLOUT_CRD = `${ROLLOUT_PLURAL}.${ROLLOUT_GROUP}`;
/** Label on every ModuleRollout: the Deployment it belongs to. */
export const DEPLOYMENT_LABEL = 'rollout.koupleless.io/deployment';

export type RolloutPhase = 'Progressing' | 'Holding' | 'Completed' | 'Aborted' | 'Superseded';
export type RolloutKind = 'first-install' | 'update' | 'undo';

export interface StrategyOverrides {
  readonly batchCount?: number;
  readonly batchSizes?: readonly (number | string)[];
  readonly beta?: boolean;
  readonly needConfirm?: 'each-batch' | 'beta' | 'false';
  readonly graySeconds?: number;
  readonly maxUnavailable?: number | string;
  /** The scheduler plugin's policy for this rollout's pods (ARCHITECTURE §3.6). */
  readonly schedulingPolicy?: 'scatter' | 'stacking';
}

export interface ModuleRolloutSpec {
  readonly deployment: string;
  readonly revision: number;
  readonly confirmedBatch?: number;
  readonly abort?: boolean;
  readonly strategy?: StrategyOverrides;
}

export interface BatchStatus {
  readonly index: number;
  readonly target: number;
  readonly startedAt?: string;
  readonly completedAt?: string;
}

export interface HoldStatus {
  readonly reason: string;
  readonly message: string;
  /** The batch waiting to start (the number to confirm). */
  readonly batch: number;
  readonly since: string;
  readonly recheckAt?: string | null;
}

export interface RolloutCondition {
  readonly type: 'Progressing' | 'Holding' | 'Completed' | 'DeadlineExceeded';
  readonly status: 'True' | 'False';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime: string;
}

export interface ModuleRolloutStatus {
  readonly observedGeneration?: number;
  readonly stableRevision?: number;
  readonly targetRevision?: number;
  readonly targetHash?: string;
  readonly kind?: RolloutKind;
  readonly replicas?: number;
  readonly plan?: readonly number[];
  readonly currentBatch?: number;
  readonly batchProgress?: string;
  readonly releasedSlots?: number;
  readonly updatedAvailable?: number;
  readonly phase?: RolloutPhase;
  readonly reason?: string;
  readonly message?: string;
  readonly hold?: HoldStatus | null;
  readonly batches?: readonly BatchStatus[];
  readonly conditions?: readonly RolloutCondition[];
}

export interface ModuleRollout {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: ModuleRolloutSpec;
  status?: ModuleRolloutStatus;
}

/** `<deployment>-r<revision>`: one object per revision, so `kubectl wait` on it is exact. */
export function rolloutName(deployment: string, revision: number): string {
  return `${deployment}-r${revision}`;
}

export function isTerminal(phase: RolloutPhase | undefined): boolean {
  return phase === 'Completed' || phase === 'Aborted' || phase === 'Superseded';
}
