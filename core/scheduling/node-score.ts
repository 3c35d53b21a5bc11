/**
 * How the scheduler plugin ranks the bases a pod fits (the score phase): the policy's score, 0 to 100, plus the
 * preferred node affinity and the update preference. Pure.
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
 * less than an update in place. `scoreNodes` plugins add to or change these numbers; the highest wins, ties go to
 * the node name that sorts first (deterministic, unlike kube-scheduler's random pick).
 */
import type { NodeCandidate, ScoredNode } from '../hooks.ts';
import type { PlacementHints } from './placement-hints.ts';
import type { SchedulingPolicy } from './policy.ts';

export const POLICY_SCORE_MAX = 100;
export const IN_PLACE_BONUS = 100;
export const HELD_PENALTY = -100;
export const PREFERRED_AFFINITY_MAX = 50;

export function scoreCandidates(
  candidates: readonly NodeCandidate[],
  policy: SchedulingPolicy,
  hints: PlacementHints = { inPlace: new Set(), avoid: new Set() },
  /** The pod's matched preferred node-affinity weight per node name (preferredAffinityWeight). */
  preferred: ReadonlyMap<string, number> = new Map(),
): ScoredNode[] {
  const caps = candidates.map((c) => c.cap).filter((cap) => Number.isFinite(cap) && cap > 0);
  const scale = Math.max(1, ...caps, ...candidates.map((c) => c.modules + 1));
  const names = candidates.map((c) => c.node.metadata?.name ?? '');
  const topWeight = Math.max(0, ...names.map((name) => preferred.get(name) ?? 0));
  return candidates.map((candidate, i) => {
    const fill = Math.min(1, candidate.modules / scale);
    const base = POLICY_SCORE_MAX * (policy === 'scatter' ? 1 - fill : fill);
    const name = names[i] ?? '';
    const affinity = topWeight > 0 ? (PREFERRED_AFFINITY_MAX * (preferred.get(name) ?? 0)) / topWeight : 0;
    const bonus = (hints.inPlace.has(name) ? IN_PLACE_BONUS : 0) + (hints.avoid.has(name) ? HELD_PENALTY : 0);
    return { ...candidate, score: base + affinity + bonus };
  });
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
