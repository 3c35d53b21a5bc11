import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { NodeCandidate } from '../../../core/hooks.ts';
import { filterBases, type BaseSlots } from '../../../core/scheduling/node-fit.ts';
import {
  HELD_PENALTY,
  IN_PLACE_BONUS,
  pickBest,
  PREFERRED_AFFINITY_MAX,
  scoreCandidates,
} from '../../../core/scheduling/node-score.ts';
import type { SchedulingPolicy } from '../../../core/scheduling/policy.ts';
import { modulePod, node } from './fixtures.ts';

const candidate = (name: string, modules: number, cap = 3): NodeCandidate => ({
  node: node(name),
  modules,
  cap,
});

/** Places `count` single-replica module pods one after another, as the scheduler does; returns pods per base. */
function place(policy: SchedulingPolicy, nodes: V1Node[], count: number): number[] {
  const bases: BaseSlots[] = nodes.map((n) => ({
    node: n,
    pods: [],
    cap: Number(n.status?.allocatable?.['pods']),
  }));
  for (let i = 0; i < count; i += 1) {
    const pod = modulePod(`biz${String(i)}`, { bizName: `biz${String(i)}` });
    const { fits } = filterBases(pod, bases);
    const best = pickBest(
      scoreCandidates(
        fits.map((f) => ({ node: f.node, modules: f.pods.length, cap: f.cap ?? Infinity })),
        policy,
      ),
    );
    if (!best) continue;
    const target = bases.find((b) => b.node === best.node);
    if (target) bases[bases.indexOf(target)] = { ...target, pods: [...target.pods, pod] };
  }
  return bases.map((b) => b.pods.length);
}

describe('scoreCandidates and pickBest', () => {
  const three = () => [node('a', { pods: 3 }), node('b', { pods: 3 }), node('c', { pods: 3 })];

  it('scatter: six single-replica modules on three bases with cap 3 land 2 / 2 / 2', () => {
    expect(place('scatter', three(), 6)).toEqual([2, 2, 2]);
  });

  it('stacking: the same six land 3 / 3 / 0, and a seventh fills the last base', () => {
    expect(place('stacking', three(), 6)).toEqual([3, 3, 0]);
    expect(place('stacking', three(), 7)).toEqual([3, 3, 1]);
  });

  it('never goes past the cap: ten modules on three bases of cap 3 leave one unplaced', () => {
    expect(place('scatter', three(), 10)).toEqual([3, 3, 3]);
  });

  it('orders by absolute module count where caps differ', () => {
    const scored = scoreCandidates([candidate('small', 1, 2), candidate('big', 2, 10)], 'scatter');
    expect(pickBest(scored)?.node.metadata?.name).toBe('small');
    expect(
      pickBest(scoreCandidates([candidate('small', 1, 2), candidate('big', 2, 10)], 'stacking'))?.node
        .metadata?.name,
    ).toBe('big');
  });

  it('puts an in-place base first whatever the policy, and a held base last', () => {
    const candidates = [candidate('empty', 0), candidate('old', 2), candidate('current', 0)];
    const hints = { inPlace: new Set(['old']), avoid: new Set(['current']) };
    const scored = scoreCandidates(candidates, 'scatter', hints);
    expect(pickBest(scored)?.node.metadata?.name).toBe('old');
    const byName = new Map(scored.map((s) => [s.node.metadata?.name, s.score]));
    expect(byName.get('old')).toBeCloseTo(100 / 3 + IN_PLACE_BONUS);
    expect(byName.get('current')).toBe(100 + HELD_PENALTY);
  });

  it('adds the preferred node affinity, scaled so the best-matching base gets PREFERRED_AFFINITY_MAX', () => {
    const candidates = [candidate('a', 0), candidate('b', 0), candidate('c', 0)];
    const scored = scoreCandidates(candidates, 'scatter', undefined, {
      preferredAffinity: new Map([
        ['b', 20],
        ['c', 10],
      ]),
    });
    expect(scored.map((s) => s.score)).toEqual([
      100,
      100 + PREFERRED_AFFINITY_MAX,
      100 + PREFERRED_AFFINITY_MAX / 2,
    ]);
    expect(pickBest(scored)?.node.metadata?.name).toBe('b');
  });

  it('lets a preferred base win with scatter while it has at most one module more than the emptiest (cap 3)', () => {
    const preferred = new Map([['preferred', 1]]);
    const oneMore = scoreCandidates(
      [candidate('empty', 0), candidate('preferred', 1)],
      'scatter',
      undefined,
      { preferredAffinity: preferred },
    );
    expect(pickBest(oneMore)?.node.metadata?.name).toBe('preferred');
    const twoMore = scoreCandidates(
      [candidate('empty', 0), candidate('preferred', 2)],
      'scatter',
      undefined,
      { preferredAffinity: preferred },
    );
    expect(pickBest(twoMore)?.node.metadata?.name).toBe('empty');
  });

  it('keeps an update in place ahead of a preferred base with the same policy score', () => {
    const hints = { inPlace: new Set(['old']), avoid: new Set<string>() };
    const scored = scoreCandidates([candidate('old', 1), candidate('preferred', 1)], 'scatter', hints, {
      preferredAffinity: new Map([['preferred', 5]]),
    });
    expect(pickBest(scored)?.node.metadata?.name).toBe('old');
  });

  it('breaks ties by node name, and picks nothing from nothing', () => {
    expect(
      pickBest([
        { ...candidate('b', 0), score: 5 },
        { ...candidate('a', 0), score: 5 },
      ])?.node.metadata?.name,
    ).toBe('a');
    expect(pickBest([])).toBeUndefined();
    expect(pickBest([{ ...candidate('a', 0), score: Number.NaN }])).toBeUndefined();
  });
});
