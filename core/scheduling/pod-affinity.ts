/**
 * The scheduler's InterPodAffinity filter, for required terms (`requiredDuringSchedulingIgnoredDuringExecution`):
 * the incoming pod's anti-affinity, the anti-affinity of the pods already placed (it is symmetric), and the
 * incoming pod's affinity, on any topology key — `kubernetes.io/hostname` (one base) and
 * `topology.kubernetes.io/zone` are the ones module manifests use. A node without the term's topology key is
 * outside every topology of that key: anti-affinity cannot exclude it and affinity cannot be met on it. Pure.
 *
 * Namespaces: a term applies to its `namespaces`, or the pod's own namespace when it names none; an empty
 * `namespaceSelector` ({}) means every namespace, and a non-empty one is taken as every namespace too (kmc does not
 * watch Namespace labels): anti-affinity then errs on the side of keeping pods apart.
 */
import type { V1Node, V1Pod, V1PodAffinityTerm } from '@kubernetes/client-node';
import { selectorMatches } from '../kube/label-selector.ts';

/** A pod already on a node (bound, or bound moments ago by this scheduler), not terminal. */
export interface PlacedPod {
  readonly pod: V1Pod;
  readonly node: V1Node;
}

export type AffinityMisfit =
  | { readonly kind: 'PodAntiAffinity'; readonly topologyKey: string }
  | { readonly kind: 'ExistingPodAntiAffinity'; readonly topologyKey: string }
  | { readonly kind: 'PodAffinity'; readonly topologyKey: string };

/**
 * Why `pod` may not go to `node` given the pods already placed (undefined: its required pod (anti-)affinity and
 * that of the placed pods allow it).
 */
export function podAffinityMisfit(
  pod: V1Pod,
  node: V1Node,
  placed: readonly PlacedPod[],
): AffinityMisfit | undefined {
  return podAffinityChecker(pod, placed)(node);
}

/**
 * The same check for many nodes: the placed pods are looked at once, into the topology domains each rule
 * forbids or needs, so each node costs only a lookup per rule.
 */
export function podAffinityChecker(
  pod: V1Pod,
  placed: readonly PlacedPod[],
): (node: V1Node) => AffinityMisfit | undefined {
  const domainsOf = (term: V1PodAffinityTerm, owner: V1Pod) =>
    new Set(
      placed
        .filter((other) => termMatches(term, owner, other.pod))
        .flatMap((other) => topologyValue(other.node, term.topologyKey) ?? []),
    );
  // The pod's own anti-affinity: the domains that already hold a pod it must stay apart from.
  const anti = antiAffinityTerms(pod).map((term) => ({
    key: term.topologyKey,
    domains: domainsOf(term, pod),
  }));
  // Placed pods' anti-affinity that selects this pod: the domains they keep it out of.
  const existing: { key: string; domain: string }[] = [];
  for (const other of placed) {
    for (const term of antiAffinityTerms(other.pod)) {
      const domain = topologyValue(other.node, term.topologyKey);
      if (domain !== undefined && termMatches(term, other.pod, pod))
        existing.push({ key: term.topologyKey, domain });
    }
  }
  // The pod's own affinity: the domains that hold a pod it must be with.
  const affinity = affinityTerms(pod);
  const needed = affinity.map((term) => ({ term, domains: domainsOf(term, pod) }));
  // The first pod of a group: no placed pod matches any term anywhere, and the pod matches all its own terms.
  const firstOfGroup =
    affinity.length > 0 &&
    affinity.every((term) => !placed.some((other) => termMatches(term, pod, other.pod))) &&
    affinity.every((term) => termMatches(term, pod, pod));

  return (node) => {
    for (const { key, domains } of anti) {
      const domain = topologyValue(node, key);
      if (domain !== undefined && domains.has(domain)) return { kind: 'PodAntiAffinity', topologyKey: key };
    }
    for (const { key, domain } of existing) {
      if (topologyValue(node, key) === domain) return { kind: 'ExistingPodAntiAffinity', topologyKey: key };
    }
    const unmet = needed.find(({ term, domains }) => {
      const domain = topologyValue(node, term.topologyKey);
      return domain === undefined || !domains.has(domain);
    });
    if (!unmet) return undefined;
    if (firstOfGroup && affinity.every((term) => topologyValue(node, term.topologyKey) !== undefined))
      return undefined;
    return { kind: 'PodAffinity', topologyKey: unmet.term.topologyKey };
  };
}

function antiAffinityTerms(pod: V1Pod): readonly V1PodAffinityTerm[] {
  return pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

function affinityTerms(pod: V1Pod): readonly V1PodAffinityTerm[] {
  return pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

/** The node's domain for a topology key: its label value, undefined when the node is outside every domain. */
export function topologyValue(node: V1Node, key: string): string | undefined {
  return node.metadata?.labels?.[key];
}

/**
 * Whether `term`, written on pod `owner`, selects pod `other`: namespace, label selector, and the selector's
 * `matchLabelKeys` / `mismatchLabelKeys` taken from the owner's labels.
 */
export function termMatches(term: V1PodAffinityTerm, owner: V1Pod, other: V1Pod): boolean {
  if (!namespaceMatches(term, owner, other)) return false;
  if (!term.labelSelector) return false;
  const labels = other.metadata?.labels ?? {};
  const ownerLabels = owner.metadata?.labels ?? {};
  for (const key of term.matchLabelKeys ?? []) {
    const value = ownerLabels[key];
    if (value !== undefined && labels[key] !== value) return false;
  }
  for (const key of term.mismatchLabelKeys ?? []) {
    const value = ownerLabels[key];
    if (value !== undefined && labels[key] === value) return false;
  }
  return selectorMatches(term.labelSelector, labels);
}

function namespaceMatches(term: V1PodAffinityTerm, owner: V1Pod, other: V1Pod): boolean {
  if (term.namespaceSelector) return true;
  const namespaces = term.namespaces?.length ? term.namespaces : [owner.metadata?.namespace ?? ''];
  return namespaces.includes(other.metadata?.namespace ?? '');
}
