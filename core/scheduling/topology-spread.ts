/**
 * The scheduler's PodTopologySpread plugin, for the bases kmc schedules onto: a pod's `topologySpreadConstraints`
 * with `whenUnsatisfiable: DoNotSchedule` filter (a base where placing the pod would raise its domain's skew past
 * `maxSkew` does not fit), those with `ScheduleAnyway` score (fewer matching pods in a base's domains is better).
 * Pure. As kube-scheduler counts:
 *
 * - the pods that count are those the constraint's `labelSelector` selects (with `matchLabelKeys` taken from the
 *   incoming pod's labels), in the incoming pod's namespace, not terminating; a constraint without a selector
 *   selects no pod;
 * - the domains are the values of `topologyKey` on the eligible bases: those with every topology key of the
 *   constraints, that match the pod's nodeSelector / required node affinity (`nodeAffinityPolicy: Honor`, the
 *   default) and, with `nodeTaintsPolicy: Honor` (not the default), whose taints it tolerates;
 * - skew = pods in the base's domain + 1 when the pod matches its own selector − the fewest in any domain (0 while
 *   there are fewer domains than `minDomains`); a base without the topology key never fits a hard constraint.
 */
import type { V1LabelSelector, V1Node, V1Pod, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { selectorMatches } from '../kube/label-selector.ts';
import { templateFitsNode } from '../kube/node-affinity.ts';
import { topologyValue } from './pod-affinity.ts';
import { untoleratedTaint } from './taints.ts';

/** A base as the spread counts it: its node and the pods placed on it (not terminal). */
export interface SpreadBase {
  readonly node: V1Node;
  readonly pods: readonly V1Pod[];
}

export type SpreadMisfit =
  | { readonly kind: 'MissingTopologyKey'; readonly topologyKey: string }
  | {
      readonly kind: 'MaxSkew';
      readonly topologyKey: string;
      readonly skew: number;
      readonly maxSkew: number;
    };

export interface TopologySpread {
  /** Why the pod may not go to the node by its DoNotSchedule constraints (undefined: it may). */
  misfit(node: V1Node): SpreadMisfit | undefined;
  /**
   * How crowded the node's domains are for the ScheduleAnyway constraints (lower is better): matching pods in the
   * node's domain, weighted by log(domains + 2) as kube-scheduler weighs a constraint with more domains; undefined
   * when the node lacks a topology key of them (kube-scheduler gives it the lowest score), 0 without soft ones.
   */
  crowding(node: V1Node): number | undefined;
}

export function topologySpread(pod: V1Pod, bases: readonly SpreadBase[]): TopologySpread {
  const constraints = pod.spec?.topologySpreadConstraints ?? [];
  const hard = constraints.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
  const soft = constraints.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
  // Counted on first use: the filter asks only about hard constraints, the score only about soft ones.
  let hardCounts: Map<string, number>[] | undefined;
  let softCounts: Map<string, number>[] | undefined;
  const labels = pod.metadata?.labels ?? {};

  return {
    misfit(node) {
      for (const [i, constraint] of hard.entries()) {
        const domain = topologyValue(node, constraint.topologyKey);
        if (domain === undefined) return { kind: 'MissingTopologyKey', topologyKey: constraint.topologyKey };
        hardCounts ??= hard.map((c) => domainCounts(pod, c, bases, hard));
        const counts = hardCounts[i] ?? new Map<string, number>();
        const selector = effectiveSelector(constraint, labels);
        const self = selector && selectorMatches(selector, labels) ? 1 : 0;
        // minDomains is at least 1 (API validation): no domain at all means a global minimum of 0.
        const fewest = counts.size < (constraint.minDomains ?? 1) ? 0 : Math.min(...counts.values());
        const skew = (counts.get(domain) ?? 0) + self - fewest;
        if (skew > constraint.maxSkew)
          return { kind: 'MaxSkew', topologyKey: constraint.topologyKey, skew, maxSkew: constraint.maxSkew };
      }
      return undefined;
    },
    crowding(node) {
      let total = 0;
      for (const [i, constraint] of soft.entries()) {
        const domain = topologyValue(node, constraint.topologyKey);
        if (domain === undefined) return undefined;
        softCounts ??= soft.map((c) => domainCounts(pod, c, bases, soft));
        const counts = softCounts[i] ?? new Map<string, number>();
        total += (counts.get(domain) ?? 0) * Math.log(counts.size + 2);
      }
      return total;
    },
  };
}

/** Matching pods per domain of the constraint's key, over the eligible bases (every domain listed, 0 or not). */
function domainCounts(
  pod: V1Pod,
  constraint: V1TopologySpreadConstraint,
  bases: readonly SpreadBase[],
  group: readonly V1TopologySpreadConstraint[],
): Map<string, number> {
  const counts = new Map<string, number>();
  const selector = effectiveSelector(constraint, pod.metadata?.labels ?? {});
  const namespace = pod.metadata?.namespace;
  for (const { node, pods } of bases) {
    if (!eligible(pod, constraint, node, group)) continue;
    const domain = topologyValue(node, constraint.topologyKey);
    if (domain === undefined) continue;
    const matching = selector
      ? pods.filter(
          (other) =>
            !other.metadata?.deletionTimestamp &&
            other.metadata?.namespace === namespace &&
            selectorMatches(selector, other.metadata?.labels ?? {}),
        ).length
      : 0;
    counts.set(domain, (counts.get(domain) ?? 0) + matching);
  }
  return counts;
}

function eligible(
  pod: V1Pod,
  constraint: V1TopologySpreadConstraint,
  node: V1Node,
  group: readonly V1TopologySpreadConstraint[],
): boolean {
  if (group.some((c) => topologyValue(node, c.topologyKey) === undefined)) return false;
  if (constraint.nodeAffinityPolicy !== 'Ignore' && !templateFitsNode(pod.spec, node)) return false;
  if (
    constraint.nodeTaintsPolicy === 'Honor' &&
    untoleratedTaint(node.spec?.taints, pod.spec?.tolerations) !== undefined
  )
    return false;
  return true;
}

/** The constraint's selector with each `matchLabelKeys` key required at the incoming pod's value. */
function effectiveSelector(
  constraint: V1TopologySpreadConstraint,
  labels: Readonly<Record<string, string>>,
): V1LabelSelector | undefined {
  if (!constraint.labelSelector) return undefined;
  const extra = (constraint.matchLabelKeys ?? []).flatMap((key) =>
    labels[key] === undefined ? [] : [{ key, operator: 'In', values: [labels[key]] }],
  );
  if (extra.length === 0) return constraint.labelSelector;
  return {
    ...constraint.labelSelector,
    matchExpressions: [...(constraint.labelSelector.matchExpressions ?? []), ...extra],
  };
}
