import type { V1Taint, V1Toleration } from '@kubernetes/client-node';

/**
 * The scheduler's TaintToleration filter: a node whose NoSchedule or NoExecute taint the pod does not tolerate is
 * not a fit (PreferNoSchedule only weighs on kube-scheduler's scoring, and is ignored here). Pure.
 */
export function untoleratedTaint(
  taints: readonly V1Taint[] | undefined,
  tolerations: readonly V1Toleration[] | undefined,
): V1Taint | undefined {
  return (taints ?? []).find(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') &&
      !(tolerations ?? []).some((toleration) => tolerates(toleration, taint)),
  );
}

/** Kubernetes' ToleratesTaint: effect (empty = all), key (empty with Exists = all), operator and value. */
export function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      // An empty key matches all keys only with Exists.
      return Boolean(toleration.key) && (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** `{key: value}:Effect`, as kube-scheduler names a taint in its messages. */
export function describeTaint(taint: V1Taint): string {
  return `{${taint.key}${taint.value ? `: ${taint.value}` : ''}}:${taint.effect}`;
}
