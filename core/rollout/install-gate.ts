import type { Hold } from '../hold.ts';
import { isTerminal, type ModuleRolloutStatus } from './module-rollout.ts';

export type PodRevision = 'target' | 'stable' | 'other';

export interface GateInput {
  readonly deployment: string;
  readonly targetRevision: number;
  /** Which revision the pod belongs to, relative to its Deployment's rollout. */
  readonly podRevision: PodRevision;
  readonly podRevisionNumber: number;
  /** The ModuleRollout of the target revision, once the engine created it. */
  readonly rollout: ModuleRolloutStatus | undefined;
  /** `kubectl rollout pause`. */
  readonly paused: boolean;
  /** Target-revision pods already admitted (this one excluded). */
  readonly admittedTarget: number;
  /** For a stable-revision pod: its base already runs (or is getting) the target version. */
  readonly baseRunsTarget: boolean;
}

/**
 * The engine's install gate (ARCHITECTURE §3.2), pure: a target-revision pod is admitted only while the current
 * batch has room (cumulative target minus pods already admitted; during `kubectl rollout pause` only released
 * slots can be refilled); a stable-revision pod (the old ReplicaSet's replacement) only on a base that runs no
 * target version; any other revision never. Undefined admits.
 */
export function gateDecision(input: GateInput): Hold | undefined {
  const { rollout, deployment, targetRevision } = input;
  if (input.podRevision === 'other') {
    return {
      reason: 'RevisionGuard',
      message: `revision ${input.podRevisionNumber} of ${deployment} is neither the target (${targetRevision}) nor the stable revision: not installed`,
      recheckAfterMs: 30_000,
    };
  }
  if (input.podRevision === 'stable') {
    if (!input.baseRunsTarget) return undefined;
    return {
      reason: 'RevisionGuard',
      message: `this base already runs revision ${targetRevision} of ${deployment}: the stable revision is not installed beside it`,
    };
  }
  if (!rollout?.phase) {
    return {
      reason: 'AwaitingRollout',
      message: `waiting for the rollout of ${deployment} revision ${targetRevision} to start`,
      recheckAfterMs: 2_000,
    };
  }
  if (rollout.phase === 'Completed') return undefined;
  if (isTerminal(rollout.phase)) {
    return {
      reason: rollout.phase === 'Aborted' ? 'RolloutAborted' : 'RolloutSuperseded',
      message: `the rollout of revision ${targetRevision} ended ${rollout.phase.toLowerCase()}: not installed`,
    };
  }
  const plan = rollout.plan ?? [];
  const batch = rollout.currentBatch ?? 0;
  let room = batch >= 1 ? (plan[batch - 1] ?? 0) : 0;
  if (input.paused) room = Math.min(room, rollout.releasedSlots ?? 0);
  if (input.admittedTarget < room) return undefined;
  const waiting = rollout.hold && rollout.hold.batch === batch + 1 ? rollout.hold : undefined;
  if (input.paused && input.admittedTarget >= (rollout.releasedSlots ?? 0) && batch >= 1) {
    return {
      reason: 'RolloutPaused',
      message: `${deployment} is paused (kubectl rollout resume ${deployment} to go on): no new slot opens`,
    };
  }
  // Held pods are asked again when the status shows more room (roomOf); the recheck is the safety net for room
  // that frees without a status change (an admitted pod deleted, a status write racing the gate).
  if (waiting) return { reason: waiting.reason, message: waiting.message, recheckAfterMs: SAFETY_RECHECK_MS };
  if (batch === 0) {
    return {
      reason: 'AwaitingBatch',
      message: `batch 1 of ${plan.length} has not started yet`,
      recheckAfterMs: 5_000,
    };
  }
  return {
    reason: 'BatchFull',
    message:
      `batch ${batch} of ${plan.length} is full (${room} of ${plan.at(-1) ?? room} pods released); ` +
      (batch < plan.length
        ? `batch ${batch + 1} starts when it completes`
        : 'waiting for the rollout to complete'),
    recheckAfterMs: SAFETY_RECHECK_MS,
  };
}

/** How often a pod held for room looks again even if nothing said room freed. */
export const SAFETY_RECHECK_MS = 5_000;
