import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';

/** What the Deployment controller keeps on its ReplicaSets, read the same way `kubectl rollout history` does. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Set on a ReplicaSet that became the target again (`kubectl rollout undo`): its earlier revisions. */
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
/** The Deployment controller's label on a ReplicaSet and its pods: the hash of the pod template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** A template's labels without the hash the Deployment controller adds (what a user's template says). */
export function withoutTemplateHash(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => key !== POD_TEMPLATE_HASH_LABEL));
}

export function revisionOf(rs: V1ReplicaSet | undefined): number {
  const revision = Number.parseInt(rs?.metadata?.annotations?.[REVISION_ANNOTATION] ?? '', 10);
  return Number.isFinite(revision) ? revision : 0;
}

export function replicaSetsOf(deployment: V1Deployment, all: readonly V1ReplicaSet[]): V1ReplicaSet[] {
  const uid = deployment.metadata?.uid;
  return all
    .filter((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid))
    .sort((a, b) => revisionOf(b) - revisionOf(a));
}

/** The Deployment's target: its newest ReplicaSet. */
export function newestReplicaSet(sets: readonly V1ReplicaSet[]): V1ReplicaSet | undefined {
  return [...sets].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
}

export function ownedBy(pod: V1Pod, rs: V1ReplicaSet | undefined): boolean {
  const uid = rs?.metadata?.uid;
  return (
    uid !== undefined &&
    (pod.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid) ?? false)
  );
}

/** The ReplicaSet a pod belongs to, among a Deployment's. */
export function replicaSetOf(pod: V1Pod, sets: readonly V1ReplicaSet[]): V1ReplicaSet | undefined {
  return sets.find((rs) => ownedBy(pod, rs));
}

/** `kubectl rollout undo` reuses an old ReplicaSet and gives it a new revision, remembering the old ones. */
export function isUndo(target: V1ReplicaSet): boolean {
  return (target.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION] ?? '') !== '';
}

/** Ready for at least minReadySeconds (what the Deployment controller calls available). */
export function isAvailable(pod: V1Pod, minReadySeconds: number, now: number): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : now;
  return now - since >= minReadySeconds * 1000;
}

/** How long until a Ready pod becomes available, for a requeue; undefined when none is waiting. */
export function nextAvailableIn(
  pods: readonly V1Pod[],
  minReadySeconds: number,
  now: number,
): number | undefined {
  if (minReadySeconds <= 0) return undefined;
  let soonest: number | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready?.lastTransitionTime) continue;
    const left = new Date(ready.lastTransitionTime).getTime() + minReadySeconds * 1000 - now;
    if (left > 0 && (soonest === undefined || left < soonest)) soonest = left;
  }
  return soonest;
}
