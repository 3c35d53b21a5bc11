import type { V1Affinity, V1Node, V1Pod, V1WeightedPodAffinityTerm } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  pickBest,
  PREFERRED_POD_AFFINITY_MAX,
  scoreCandidates,
} from '../../../core/scheduling/node-score.ts';
import { preferredPodAffinity } from '../../../core/scheduling/pod-affinity-score.ts';
import { modulePod, node } from './fixtures.ts';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

const a1 = node('a1', { labels: { [ZONE]: 'a' } });
const a2 = node('a2', { labels: { [ZONE]: 'a' } });
const b1 = node('b1', { labels: { [ZONE]: 'b' } });
const bare = node('bare');
const NODES = [a1, a2, b1];

function weighted(app: string, topologyKey: string, weight: number): V1WeightedPodAffinityTerm {
  return { weight, podAffinityTerm: { topologyKey, labelSelector: { matchLabels: { app } } } };
}

function pod(name: string, app: string, affinity?: V1Affinity, deleting = false): V1Pod {
  return modulePod(name, { labels: { app }, ...(affinity ? { spec: { affinity } } : {}), deleting });
}

const near = (terms: V1WeightedPodAffinityTerm[]): V1Affinity => ({
  podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms },
});
const apart = (terms: V1WeightedPodAffinityTerm[]): V1Affinity => ({
  podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms },
});

const sums = (incoming: V1Pod, placed: { pod: V1Pod; node: V1Node }[], nodes: V1Node[] = NODES) =>
  Object.fromEntries(preferredPodAffinity(incoming, placed, nodes));

describe('preferredPodAffinity', () => {
  it('adds a preferred affinity term’s weight to every base in the domain of a pod it selects', () => {
    const incoming = pod('new', 'biz2', near([weighted('biz1', ZONE, 10)]));
    expect(sums(incoming, [{ pod: pod('p', 'biz1'), node: a1 }])).toEqual({ a1: 10, a2: 10, b1: 0 });
  });

  it('subtracts a preferred anti-affinity term’s weight, per base on the hostname key', () => {
    const incoming = pod('new', 'biz1', apart([weighted('biz1', HOST, 5)]));
    expect(
      sums(incoming, [
        { pod: pod('p', 'biz1'), node: a1 },
        { pod: pod('q', 'biz1'), node: a1 },
      ]),
    ).toEqual({ a1: -10, a2: 0, b1: 0 });
  });

  it('is symmetric: a placed pod’s preferred terms that select the incoming pod count too', () => {
    const placed = [
      { pod: pod('likes', 'biz1', near([weighted('biz2', HOST, 7)])), node: b1 },
      { pod: pod('shuns', 'biz3', apart([weighted('biz2', ZONE, 3)])), node: a2 },
    ];
    expect(sums(pod('new', 'biz2'), placed)).toEqual({ a1: -3, a2: -3, b1: 7 });
  });

  it('leaves out bases without the topology key, pods being deleted, and pods the term does not select', () => {
    const incoming = pod('new', 'biz2', near([weighted('biz1', ZONE, 10)]));
    const placed = [
      { pod: pod('leaving', 'biz1', undefined, true), node: a1 },
      { pod: pod('other', 'biz9'), node: b1 },
      { pod: pod('p', 'biz1'), node: b1 },
    ];
    expect(sums(incoming, placed, [...NODES, bare])).toEqual({ a1: 0, a2: 0, b1: 10, bare: 0 });
  });

  it('is empty when no term is involved', () => {
    expect(sums(pod('new', 'biz1'), [{ pod: pod('p', 'biz1'), node: a1 }])).toEqual({});
  });
});

describe('preferred pod affinity in the score', () => {
  const candidates = NODES.map((n) => ({ node: n, modules: 0, cap: 3 }));

  it('adds up to PREFERRED_POD_AFFINITY_MAX, min-max over the candidates', () => {
    const scored = scoreCandidates(candidates, 'scatter', undefined, {
      podAffinity: new Map([
        ['a1', -10],
        ['a2', 0],
        ['b1', 10],
      ]),
    });
    expect(scored.map((s) => s.score)).toEqual([
      100,
      100 + PREFERRED_POD_AFFINITY_MAX / 2,
      100 + PREFERRED_POD_AFFINITY_MAX,
    ]);
    expect(pickBest(scored)?.node.metadata?.name).toBe('b1');
  });

  it('adds nothing when every candidate has the same sum', () => {
    const scored = scoreCandidates(candidates, 'scatter', undefined, {
      podAffinity: new Map([
        ['a1', 4],
        ['a2', 4],
        ['b1', 4],
      ]),
    });
    expect(scored.map((s) => s.score)).toEqual([100, 100, 100]);
  });
});
