import type { V1Deployment, V1Node, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { isNodeReady, isPodReady } from '../../kube/conditions.ts';
import { INSTALL_HELD, podModules } from '../../module/module-pod.ts';
import { replicaSetOf, revisionOf } from '../../rollout/deployment-revisions.ts';
import { isTerminal, type ModuleRollout } from '../../rollout/module-rollout.ts';

/**
 * What `kubectl koupleless status` shows, computed from API objects alone (pure): the rollout, its batches with
 * the pods that fill them, the pods of other revisions, the bases under them, timers and the next action.
 */
export interface StatusModel {
  readonly namespace: string;
  readonly deployment: string;
  readonly replicas: number;
  readonly paused: boolean;
  /** The revision the Deployment rolls to (undefined until the Deployment controller has seen the spec). */
  readonly revision: number | undefined;
  readonly rollout: RolloutLine | undefined;
  readonly batches: readonly BatchLine[];
  /** Pods of other revisions (the stable one, and any left from earlier rollouts). */
  readonly others: readonly PodLine[];
  /** Milliseconds before the Deployment's progress deadline passes; negative once passed; undefined when not running. */
  readonly progressDeadlineLeftMs: number | undefined;
  /** The command a human may run next, when one is awaited. */
  readonly next: readonly string[];
  /** The rollout reached a terminal phase. */
  readonly done: boolean;
}

export interface RolloutLine {
  readonly name: string;
  readonly kind: string;
  readonly phase: string;
  readonly stableRevision: number | undefined;
  readonly targetRevision: number;
  readonly plan: readonly number[];
  readonly currentBatch: number;
  readonly confirmedBatch: number;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly hold:
    | {
        readonly reason: string;
        readonly message: string;
        readonly batch: number;
        readonly since: string;
        /** Milliseconds until kmc looks again (gray time left, a release window opening …). */
        readonly recheckInMs: number | undefined;
      }
    | undefined;
  readonly deadlineExceeded: boolean;
}

export type BatchState = 'completed' | 'in progress' | 'holding' | 'pending';

export interface BatchLine {
  readonly index: number;
  /** Cumulative target, and this batch's own size. */
  readonly target: number;
  readonly size: number;
  readonly state: BatchState;
  readonly startedAt: string | undefined;
  readonly completedAt: string | undefined;
  readonly pods: readonly PodLine[];
}

export interface PodLine {
  readonly name: string;
  readonly revision: number | undefined;
  /** Module versions, `biz1:0.0.2` (several for a multi-module pod). */
  readonly modules: readonly string[];
  readonly state: string;
  readonly detail: string | undefined;
  readonly node: string | undefined;
  readonly base: BaseLine | undefined;
}

export interface BaseLine {
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly ready: boolean;
}

export interface StatusInput {
  readonly deployment: V1Deployment;
  readonly revision: number | undefined;
  readonly rollout: ModuleRollout | undefined;
  readonly replicaSets: readonly V1ReplicaSet[];
  readonly pods: readonly V1Pod[];
  readonly nodes: readonly V1Node[];
  readonly now: number;
}

export function statusModel(input: StatusInput): StatusModel {
  const { deployment, rollout, replicaSets, now } = input;
  const name = deployment.metadata?.name ?? '';
  const nodes = new Map(input.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const line = (pod: V1Pod): PodLine => podLine(pod, replicaSets, nodes);
  const status = rollout?.status;
  const target = rollout?.spec.revision ?? input.revision;
  const plan = status?.plan ?? [];
  const currentBatch = status?.currentBatch ?? 0;
  const hold = status?.hold ?? undefined;
  const terminal = isTerminal(status?.phase);

  const ofTarget = input.pods.filter((p) => revisionOf(replicaSetOf(p, replicaSets)) === target);
  const others = input.pods.filter((p) => !ofTarget.includes(p));
  // Batches are cumulative counts, not pod sets: admitted pods fill them in the order they were admitted.
  const admitted = ofTarget
    .filter((p) => admittedAt(p) !== undefined)
    .sort((a, b) => (admittedAt(a) ?? 0) - (admittedAt(b) ?? 0) || nameOf(a).localeCompare(nameOf(b)));
  const waiting = ofTarget.filter((p) => admittedAt(p) === undefined).sort(byName);
  const waitingBatch = hold?.batch ?? Math.min(currentBatch + 1, plan.length);
  const batches: BatchLine[] = plan.map((cumulative, i) => {
    const index = i + 1;
    const previous = i === 0 ? 0 : (plan[i - 1] ?? 0);
    const record = status?.batches?.find((b) => b.index === index);
    const state: BatchState = record?.completedAt
      ? 'completed'
      : index === currentBatch && record?.startedAt
        ? 'in progress'
        : hold && hold.batch === index
          ? 'holding'
          : 'pending';
    const pods = [
      ...admitted.slice(previous, cumulative),
      ...(index === waitingBatch ? waiting : []),
      // Admitted beyond the plan (a scale down after admission): shown with the last batch.
      ...(index === plan.length ? admitted.slice(cumulative) : []),
    ].map(line);
    return {
      index,
      target: cumulative,
      size: cumulative - previous,
      state,
      startedAt: record?.startedAt,
      completedAt: record?.completedAt,
      pods,
    };
  });
  // No plan yet (no rollout object): every pod of the target revision is listed with the others.
  const unplanned = plan.length === 0 ? ofTarget.map(line) : [];

  const next: string[] = [];
  if (rollout && !terminal) {
    if (hold?.reason === 'AwaitingConfirmation')
      next.push(`kubectl koupleless confirm ${name} --batch ${String(hold.batch)}`);
    if (deployment.spec?.paused) next.push(`kubectl koupleless resume ${name}`);
    next.push(
      `kubectl koupleless abort ${name}   (back to revision ${String(status?.stableRevision ?? '?')})`,
    );
  }

  return {
    namespace: deployment.metadata?.namespace ?? '',
    deployment: name,
    replicas: deployment.spec?.replicas ?? 1,
    paused: deployment.spec?.paused === true,
    revision: input.revision,
    rollout: rollout
      ? {
          name: rollout.metadata?.name ?? '',
          kind: status?.kind ?? '',
          phase: status?.phase ?? 'Pending',
          stableRevision: status?.stableRevision,
          targetRevision: rollout.spec.revision,
          plan,
          currentBatch,
          confirmedBatch: rollout.spec.confirmedBatch ?? 0,
          reason: status?.reason,
          message: status?.message,
          hold: hold
            ? {
                reason: hold.reason,
                message: hold.message,
                batch: hold.batch,
                since: hold.since,
                recheckInMs: hold.recheckAt ? Date.parse(hold.recheckAt) - now : undefined,
              }
            : undefined,
          deadlineExceeded:
            status?.conditions?.some((c) => c.type === 'DeadlineExceeded' && c.status === 'True') ?? false,
        }
      : undefined,
    batches,
    others: [...unplanned, ...others.sort(byName).map(line)],
    progressDeadlineLeftMs: terminal ? undefined : progressDeadlineLeft(deployment, now),
    next,
    done: terminal,
  };
}

/** When the install gate admitted the pod (its InstallHeld=False transition), or undefined while it waits. */
function admittedAt(pod: V1Pod): number | undefined {
  const held = pod.status?.conditions?.find((c) => c.type === INSTALL_HELD);
  if (held?.status !== 'False') return undefined;
  return new Date(held.lastTransitionTime ?? 0).getTime();
}

const nameOf = (pod: V1Pod) => pod.metadata?.name ?? '';
const byName = (a: V1Pod, b: V1Pod) => nameOf(a).localeCompare(nameOf(b));

function podLine(
  pod: V1Pod,
  replicaSets: readonly V1ReplicaSet[],
  nodes: ReadonlyMap<string, V1Node>,
): PodLine {
  const nodeName = pod.spec?.nodeName;
  const node = nodeName ? nodes.get(nodeName) : undefined;
  const labels = node?.metadata?.labels ?? {};
  const [state, detail] = podState(pod);
  const revision = revisionOf(replicaSetOf(pod, replicaSets));
  return {
    name: nameOf(pod),
    revision: revision > 0 ? revision : undefined,
    modules: podModules(pod).modules.map((m) => `${m.bizName}:${m.bizVersion}`),
    state,
    detail,
    node: nodeName,
    base: node
      ? {
          name: labels['base.koupleless.io/name'],
          version: labels['base.koupleless.io/version'],
          ready: isNodeReady(node),
        }
      : undefined,
  };
}

/** A short state and, when there is one, why. */
function podState(pod: V1Pod): [string, string | undefined] {
  const conditions = pod.status?.conditions ?? [];
  if (pod.metadata?.deletionTimestamp) return ['Terminating', undefined];
  if (pod.status?.phase === 'Failed') return ['Failed', pod.status.reason ?? pod.status.message];
  const held = conditions.find((c) => c.type === INSTALL_HELD && c.status === 'True');
  if (held) return [`Held: ${held.reason ?? ''}`, held.message];
  if (!pod.spec?.nodeName) {
    const scheduled = conditions.find((c) => c.type === 'PodScheduled');
    return ['Unscheduled', scheduled?.message ?? scheduled?.reason];
  }
  if (isPodReady(pod)) return ['Ready', undefined];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) return ['Pending', 'waiting for kmc'];
  return [ready.reason || 'NotReady', ready.message || undefined];
}

/** The Deployment's progress deadline: `lastUpdateTime + progressDeadlineSeconds − now` while it progresses. */
function progressDeadlineLeft(deployment: V1Deployment, now: number): number | undefined {
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  if (!progressing) return undefined;
  if (progressing.reason === 'NewReplicaSetAvailable') return undefined;
  const seconds = deployment.spec?.progressDeadlineSeconds ?? 600;
  if (progressing.reason === 'ProgressDeadlineExceeded') return -1;
  const since = new Date(progressing.lastUpdateTime ?? progressing.lastTransitionTime ?? now).getTime();
  return since + seconds * 1000 - now;
}
