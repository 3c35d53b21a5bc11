/**
 * Which bases a module pod may go to, and why the others may not (the filter phase of the scheduler plugin, the
 * checks kube-scheduler makes that matter for VNodes): Ready and not cordoned, nodeSelector and required node
 * affinity, taints and tolerations, the module cap, DoNotSchedule topology spread constraints, and required pod
 * (anti-)affinity. Pure.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { isNodeReady } from '../kube/conditions.ts';
import { templateFitsNode } from '../kube/node-affinity.ts';
import { podAffinityChecker, type AffinityMisfit, type PlacedPod } from './pod-affinity.ts';
import { describeTaint, untoleratedTaint } from './taints.ts';
import { topologySpread, type SpreadMisfit } from './topology-spread.ts';

/** A base as the filter sees it: its node, the pods placed on it (not terminal), and its cap. */
export interface BaseSlots {
  readonly node: V1Node;
  readonly pods: readonly V1Pod[];
  /** Allocatable pods; undefined: the node publishes none (no cap). */
  readonly cap: number | undefined;
}

export type MisfitReason =
  | 'NodeNotReady'
  | 'NodeUnschedulable'
  | 'NodeAffinity'
  | 'Taint'
  | 'PodAntiAffinity'
  | 'ExistingPodAntiAffinity'
  | 'PodAffinity'
  | 'PodTopologySpread'
  | 'ModuleCap';

export interface Misfit {
  readonly node: string;
  readonly reason: MisfitReason;
  /** The phrase of the FailedScheduling message, kube-scheduler's wording where it has one. */
  readonly phrase: string;
}

export interface FilterResult {
  readonly fits: readonly BaseSlots[];
  readonly misfits: readonly Misfit[];
}

export function filterBases(pod: V1Pod, bases: readonly BaseSlots[]): FilterResult {
  const placed: PlacedPod[] = bases.flatMap((base) =>
    base.pods.map((other) => ({ pod: other, node: base.node })),
  );
  const affinityMisfit = podAffinityChecker(pod, placed);
  const spread = topologySpread(pod, bases);
  const fits: BaseSlots[] = [];
  const misfits: Misfit[] = [];
  for (const base of bases) {
    const misfit = misfitOf(pod, base, affinityMisfit, (node) => spread.misfit(node));
    if (misfit) misfits.push({ node: base.node.metadata?.name ?? '', ...misfit });
    else fits.push(base);
  }
  return { fits, misfits };
}

function misfitOf(
  pod: V1Pod,
  base: BaseSlots,
  affinityMisfit: (node: V1Node) => AffinityMisfit | undefined,
  spreadMisfit: (node: V1Node) => SpreadMisfit | undefined,
): { reason: MisfitReason; phrase: string } | undefined {
  const { node } = base;
  if (!isNodeReady(node)) return { reason: 'NodeNotReady', phrase: 'node(s) were not Ready' };
  if (node.spec?.unschedulable)
    return { reason: 'NodeUnschedulable', phrase: 'node(s) were unschedulable (cordoned)' };
  if (!templateFitsNode(pod.spec, node))
    return { reason: 'NodeAffinity', phrase: "node(s) didn't match Pod's node affinity/selector" };
  const taint = untoleratedTaint(node.spec?.taints, pod.spec?.tolerations);
  if (taint) return { reason: 'Taint', phrase: `node(s) had untolerated taint ${describeTaint(taint)}` };
  if (base.cap !== undefined && base.pods.length >= base.cap)
    return {
      reason: 'ModuleCap',
      phrase: `base(s) were at their module cap (allocatable pods ${String(base.cap)})`,
    };
  // kube-scheduler's order: PodTopologySpread before InterPodAffinity.
  const spread = spreadMisfit(node);
  if (spread)
    return {
      reason: 'PodTopologySpread',
      phrase:
        spread.kind === 'MissingTopologyKey'
          ? "node(s) didn't match pod topology spread constraints (missing required label)"
          : "node(s) didn't match pod topology spread constraints",
    };
  const affinity = affinityMisfit(node);
  if (affinity) {
    switch (affinity.kind) {
      case 'PodAntiAffinity':
        return {
          reason: affinity.kind,
          phrase: `node(s) didn't match pod anti-affinity rules (topology ${affinity.topologyKey})`,
        };
      case 'ExistingPodAntiAffinity':
        return {
          reason: affinity.kind,
          phrase: `node(s) didn't satisfy existing pods anti-affinity rules (topology ${affinity.topologyKey})`,
        };
      case 'PodAffinity':
        return {
          reason: affinity.kind,
          phrase: `node(s) didn't match pod affinity rules (topology ${affinity.topologyKey})`,
        };
    }
  }
  return undefined;
}

/**
 * The FailedScheduling message, in kube-scheduler's form: `0/3 nodes are available: 2 base(s) were at their
 * module cap (allocatable pods 3), 1 node(s) didn't match Pod's node affinity/selector.` Reasons are counted by
 * phrase and listed by phrase, as kube-scheduler does; `dropped` counts fits that filterNodes plugins removed.
 */
export function unavailableMessage(
  total: number,
  misfits: readonly Misfit[],
  dropped: { readonly count: number; readonly plugins: readonly string[] } = { count: 0, plugins: [] },
): string {
  if (total === 0)
    return '0/0 nodes are available: no Koupleless base is online (no virtual node of this env).';
  const counts = new Map<string, number>();
  for (const misfit of misfits) counts.set(misfit.phrase, (counts.get(misfit.phrase) ?? 0) + 1);
  if (dropped.count > 0) {
    const by = dropped.plugins.length > 0 ? ` (${dropped.plugins.join(', ')})` : '';
    counts.set(`node(s) were filtered out by filterNodes plugins${by}`, dropped.count);
  }
  const parts = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([phrase, count]) => `${String(count)} ${phrase}`);
  return `0/${String(total)} nodes are available: ${parts.join(', ')}.`;
}
