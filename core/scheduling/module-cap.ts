/**
 * The per-base module cap (the v1 `max-module-count`, ARCHITECTURE §3.6 `scheduler.maxModulesPerBase`): how it is
 * resolved for a base, how it reads back from a Node, and how kmc — the bases' kubelet — admits the pods bound to
 * a base against it. Pure.
 *
 * The cap counts module pods, as the node's allocatable `pods` does for every scheduler: a pod with two modules
 * takes one slot, and a retained instance of a rolling update (no pod any more) takes none.
 */
import type { V1Node, V1Pod, V1PodStatus } from '@kubernetes/client-node';

/** Caps by the metadata a base reports: its name (`base.koupleless.io/name`) and its cluster name. */
export interface ModuleCapRules {
  /** Every base not named below; the node's `bases.capacity.pods` when left out. */
  readonly default?: number | undefined;
  /** By base name: wins over the cluster name. */
  readonly byBaseName?: Readonly<Record<string, number>> | undefined;
  readonly byClusterName?: Readonly<Record<string, number>> | undefined;
}

/** `scheduler.maxModulesPerBase`: one cap for every base, or rules. */
export type MaxModulesPerBase = number | ModuleCapRules;

export interface ResolvedCap {
  readonly cap: number;
  /** Which rule gave it, for logs and docs: `base-name`, `cluster-name`, `default` or `capacity`. */
  readonly source: 'base-name' | 'cluster-name' | 'default' | 'capacity';
}

/**
 * The cap of a base: by its name, else by its cluster name, else the configured default, else `fallback`
 * (`bases.capacity.pods`).
 */
export function moduleCapFor(
  metadata: { readonly name: string; readonly clusterName: string },
  rules: MaxModulesPerBase | undefined,
  fallback: number,
): ResolvedCap {
  if (rules === undefined) return { cap: fallback, source: 'capacity' };
  if (typeof rules === 'number') return { cap: rules, source: 'default' };
  const byName = lookup(rules.byBaseName, metadata.name);
  if (byName !== undefined) return { cap: byName, source: 'base-name' };
  const byCluster = lookup(rules.byClusterName, metadata.clusterName);
  if (byCluster !== undefined) return { cap: byCluster, source: 'cluster-name' };
  if (rules.default !== undefined) return { cap: rules.default, source: 'default' };
  return { cap: fallback, source: 'capacity' };
}

function lookup(table: Readonly<Record<string, number>> | undefined, key: string): number | undefined {
  if (!table || key === '' || !Object.hasOwn(table, key)) return undefined;
  return table[key];
}

/** The cap a Node publishes: its allocatable `pods` (undefined when it publishes none). */
export function allocatablePods(node: V1Node | undefined): number | undefined {
  const text = node?.status?.allocatable?.['pods'];
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** A pod in a terminal phase no longer holds a slot (as for kube-scheduler and the kubelet). */
export function isTerminal(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** A module pod bound to a base, as the cap admission sees it. */
export interface SlotPod {
  readonly uid: string;
  readonly name: string;
  /** Admitted by the install gate: it holds its slot whatever happens next. */
  readonly admitted: boolean;
  readonly deleting: boolean;
  readonly terminal: boolean;
  /** creationTimestamp in ms: older pods are admitted first, as the kubelet does. */
  readonly createdAt: number;
}

export interface CapAdmission {
  /** Pods that hold a slot: admitted ones (deleting ones too, until they are gone), then the oldest waiting. */
  readonly used: number;
  /** Pods bound beyond the cap: refused (never installed). */
  readonly rejected: readonly SlotPod[];
}

/**
 * Which pods bound to a base are beyond its cap. Admitted pods keep their slots (a cap lowered later refuses
 * new pods, it never takes a module away); pods waiting for admission take the free slots oldest first; the rest
 * are refused. Deleting pods that were never admitted hold nothing and are not refused; terminal pods hold
 * nothing. Deterministic, so two reconciles that see the same pods refuse the same ones.
 */
export function capAdmission(pods: readonly SlotPod[], cap: number): CapAdmission {
  const live = pods.filter((pod) => !pod.terminal);
  const admitted = live.filter((pod) => pod.admitted).length;
  const waiting = live
    .filter((pod) => !pod.admitted && !pod.deleting)
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  const free = Math.max(0, cap - admitted);
  return { used: admitted + Math.min(free, waiting.length), rejected: waiting.slice(free) };
}

/** The status reason of a pod refused at admission for the cap (status.reason, its Ready condition, the Event). */
export const MODULE_CAP_EXCEEDED = 'ModuleCapExceeded';

export function capRejectionMessage(baseId: string, nodeName: string, used: number, cap: number): string {
  return (
    `Pod was rejected: base ${baseId} (node ${nodeName}) is at its module cap: ${String(used)} of ${String(cap)} ` +
    'module pods (the node’s allocatable pods); the module was not installed. ' +
    'Its owner creates a replacement, which a scheduler places on a base with room.'
  );
}

/**
 * The status of a pod refused for the cap: Failed, as the kubelet fails a pod it cannot admit (OutOfpods), so
 * its ReplicaSet, DaemonSet or StatefulSet replaces it; nothing was installed, so nothing is uninstalled.
 */
export function capRejectionStatus(pod: V1Pod, now: Date, message: string): V1PodStatus {
  const notReady = (type: string) => ({
    type,
    status: 'False',
    reason: MODULE_CAP_EXCEEDED,
    message,
    lastTransitionTime: now,
  });
  return {
    phase: 'Failed',
    reason: MODULE_CAP_EXCEEDED,
    message,
    conditions: [notReady('Ready'), notReady('ContainersReady')],
    containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
      name: container.name,
      image: container.image ?? '',
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { terminated: { exitCode: 1, reason: MODULE_CAP_EXCEEDED, message } },
    })),
  };
}
