/**
 * How the scheduler plugin ranks the bases a pod fits (the score phase): the policy's score, 0 to 100, plus the
 * preferred node and pod affinity, the soft topology spread and the update preference. Pure.
 *
 * - `scatter` (v1: "preferentially scheduled to machines with the fewest modules installed"): 100 for an empty
 *   base, falling linearly with the module pods on it;
 * - `stacking` (v1: "the most modules installed and not yet reaching max-module-count"): 0 for an empty base,
 *   rising with its module pods (the cap itself was checked by the filter).
 * Both measure module pods against the largest cap among the candidates, so the order follows the absolute count
 * even where caps differ. A base where the pod replaces another version in place gets IN_PLACE_BONUS on top, so
 * an update lands where the old version runs whatever the policy; a base where the pod would be held by the
 * revision guard gets HELD_PENALTY. The pod's preferred node affinity adds up to PREFERRED_AFFINITY_MAX: the
 * matched weights, scaled so the best-matching candidate gets the maximum (kube-scheduler's normalisation). It is
 * half the policy's range because it is a soft wish: it decides between bases the policy finds close, and weighs
 * less than an update in place. The pod's ScheduleAnyway topology spread constraints add up to SPREAD_MAX, the
 * same soft weight, most to the candidates whose domains hold the fewest matching pods; its preferred pod
 * (anti-)affinity up to PREFERRED_POD_AFFINITY_MAX, most to the candidate with the highest weight sum, 0 to the
 * lowest (min-max, as kube-scheduler normalises it). `scoreNodes` plugins add
 * to or change these numbers; the highest wins, ties go to the node name that sorts first (deterministic, unlike
 * kube-scheduler's random pick).
 */
import type { NodeCandidate, ScoredNode } from '../hooks.ts';
import type { PlacementHints } from './placement-hints.ts';
import type { SchedulingPolicy } from './policy.ts';

export const POLICY_SCORE_MAX = 100;
export const IN_PLACE_BONUS = 100;
export const HELD_PENALTY = -100;
export const PREFERRED_AFFINITY_MAX = 50;
export const SPREAD_MAX = 50;
export const PREFERRED_POD_AFFINITY_MAX = 50;

/** The soft wishes of the pod, per node name: each adds up to its maximum, normalised over the candidates. */
export interface SoftPreferences {
  /** The matched preferred node-affinity weight (preferredAffinityWeight): more is better. */
  readonly preferredAffinity?: ReadonlyMap<string, number> | undefined;
  /**
   * How crowded the node's domains are for the ScheduleAnyway topology spread constraints (TopologySpread
   * crowding): less is better; undefined for a node without their topology keys, which gets nothing.
   */
  readonly spreadCrowding?: ReadonlyMap<string, number | undefined> | undefined;
  /** The preferred pod (anti-)affinity sum (preferredPodAffinity): more is better, negative where avoided. */
  readonly podAffinity?: ReadonlyMap<string, number> | undefined;
}

export function scoreCandidates(
  candidates: readonly NodeCandidate[],
  policy: SchedulingPolicy,
  hints: PlacementHints = { inPlace: new Set(), avoid: new Set() },
  soft: SoftPreferences = {},
): ScoredNode[] {
  const caps = candidates.map((c) => c.cap).filter((cap) => Number.isFinite(cap) && cap > 0);
  const scale = Math.max(1, ...caps, ...candidates.map((c) => c.modules + 1));
  const names = candidates.map((c) => c.node.metadata?.name ?? '');
  const preferred = soft.preferredAffinity ?? new Map<string, number>();
  const topWeight = Math.max(0, ...names.map((name) => preferred.get(name) ?? 0));
  const spread = spreadScores(names, soft.spreadCrowding);
  const podAffinity = minMax(names, soft.podAffinity, PREFERRED_POD_AFFINITY_MAX);
  return candidates.map((candidate, i) => {
    const fill = Math.min(1, candidate.modules / scale);
    const base = POLICY_SCORE_MAX * (policy === 'scatter' ? 1 - fill : fill);
    const name = names[i] ?? '';
    const affinity = topWeight > 0 ? (PREFERRED_AFFINITY_MAX * (preferred.get(name) ?? 0)) / topWeight : 0;
    const bonus = (hints.inPlace.has(name) ? IN_PLACE_BONUS : 0) + (hints.avoid.has(name) ? HELD_PENALTY : 0);
    const wishes = affinity + (spread.get(name) ?? 0) + (podAffinity.get(name) ?? 0);
    return { ...candidate, score: base + wishes + bonus };
  });
}

/**
 * The spread's share of each score: SPREAD_MAX for the least crowded candidates, 0 for the most crowded, linear in
 * between. Candidates without the topology keys get 0 and rank below all others, as in kube-scheduler; when the
 * others are all as crowded, they share SPREAD_MAX.
 */
function spreadScores(
  names: readonly string[],
  crowding: ReadonlyMap<string, number | undefined> | undefined,
): Map<string, number> {
  const scores = new Map<string, number>();
  const known = names.flatMap((name) => {
    const value = crowding?.get(name);
    return value === undefined ? [] : [[name, value] as const];
  });
  if (known.length === 0) return scores;
  const least = Math.min(...known.map(([, value]) => value));
  const most = Math.max(...known.map(([, value]) => value));
  const someLackKeys = known.length < names.length;
  for (const [name, value] of known) {
    if (most > least) scores.set(name, (SPREAD_MAX * (most - value)) / (most - least));
    else if (someLackKeys) scores.set(name, SPREAD_MAX);
  }
  return scores;
}

/** `max` for the highest value among the candidates, 0 for the lowest, linear between; nothing when all are equal. */
function minMax(
  names: readonly string[],
  values: ReadonlyMap<string, number> | undefined,
  max: number,
): Map<string, number> {
  const scores = new Map<string, number>();
  if (!values) return scores;
  const all = names.map((name) => values.get(name) ?? 0);
  const low = Math.min(...all);
  const high = Math.max(...all);
  if (high === low) return scores;
  for (const [i, name] of names.entries()) scores.set(name, (max * ((all[i] ?? 0) - low)) / (high - low));
  return scores;
}

/** The best-scored base: highest score, then the node name that sorts first. */
export function pickBest(scored: readonly ScoredNode[]): ScoredNode | undefined {
  let best: ScoredNode | undefined;
  for (const candidate of scored) {
    if (!Number.isFinite(candidate.score)) continue;
    if (
      !best ||
      candidate.score > best.score ||
      (candidate.score === best.score && nameOf(candidate) < nameOf(best))
    )
      best = candidate;
  }
  return best;
}

function nameOf(candidate: NodeCandidate): string {
  return candidate.node.metadata?.name ?? '';
}
