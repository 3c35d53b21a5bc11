/**
 * The scheduler's InterPodAffinity score, for preferred terms (`preferredDuringSchedulingIgnoredDuringExecution`):
 * for every pod already placed, each of the incoming pod's preferred affinity terms that selects it adds the term's
 * weight to every base in its topology domain, each preferred anti-affinity term subtracts it; and symmetrically,
 * each preferred term of a placed pod that selects the incoming pod adds (affinity) or subtracts (anti-affinity) its
 * weight in the placed pod's domain. As in kube-scheduler, a base without the topology key is outside every domain
 * of it. A pod being deleted counts for nothing: it is leaving. Raw sums, normalised by scoreCandidates. Pure.
 */
import type { V1Node, V1Pod, V1WeightedPodAffinityTerm } from '@kubernetes/client-node';
import { termMatches, topologyValue, type PlacedPod } from './pod-affinity.ts';

/** The raw preferred pod (anti-)affinity sum per candidate node name; empty when no term is involved. */
export function preferredPodAffinity(
  pod: V1Pod,
  placed: readonly PlacedPod[],
  candidates: readonly V1Node[],
): Map<string, number> {
  // Per topology key and domain value: the weight the placed pods give it.
  const byDomain = new Map<string, Map<string, number>>();
  const add = (key: string, domain: string | undefined, weight: number) => {
    if (domain === undefined || weight === 0) return;
    const domains = byDomain.get(key) ?? new Map<string, number>();
    domains.set(domain, (domains.get(domain) ?? 0) + weight);
    byDomain.set(key, domains);
  };
  for (const other of placed) {
    if (other.pod.metadata?.deletionTimestamp) continue;
    // Terms written on `owner` that select `target` give their weight to the placed pod's domain.
    const weigh = (
      terms: readonly V1WeightedPodAffinityTerm[],
      sign: 1 | -1,
      owner: V1Pod,
      target: V1Pod,
    ) => {
      for (const { weight, podAffinityTerm: term } of terms)
        if (termMatches(term, owner, target))
          add(term.topologyKey, topologyValue(other.node, term.topologyKey), sign * weight);
    };
    weigh(affinityOf(pod), 1, pod, other.pod);
    weigh(antiAffinityOf(pod), -1, pod, other.pod);
    weigh(affinityOf(other.pod), 1, other.pod, pod);
    weigh(antiAffinityOf(other.pod), -1, other.pod, pod);
  }
  const scores = new Map<string, number>();
  if (byDomain.size === 0) return scores;
  for (const node of candidates) {
    let total = 0;
    for (const [key, domains] of byDomain) {
      const domain = topologyValue(node, key);
      if (domain !== undefined) total += domains.get(domain) ?? 0;
    }
    scores.set(node.metadata?.name ?? '', total);
  }
  return scores;
}

function affinityOf(pod: V1Pod): readonly V1WeightedPodAffinityTerm[] {
  return pod.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
}

function antiAffinityOf(pod: V1Pod): readonly V1WeightedPodAffinityTerm[] {
  return pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
}
