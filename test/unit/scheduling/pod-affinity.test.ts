import type { V1PodAffinityTerm } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { selectorMatches } from '../../../core/kube/label-selector.ts';
import { podAffinityMisfit, termMatches } from '../../../core/scheduling/pod-affinity.ts';
import { modulePod, node } from './fixtures.ts';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

function withAnti(name: string, term: V1PodAffinityTerm, labels: Record<string, string> = {}) {
  return modulePod(name, {
    labels: { 'module.koupleless.io/name': 'biz1', ...labels },
    spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } },
  });
}

describe('podAffinityMisfit: anti-affinity of the incoming pod', () => {
  const a = node('a', { labels: { [ZONE]: 'z1' } });
  const b = node('b', { labels: { [ZONE]: 'z1' } });
  const c = node('c', { labels: { [ZONE]: 'z2' } });
  const sameName = { labelSelector: { matchLabels: { 'module.koupleless.io/name': 'biz1' } } };
  const oldPod = modulePod('old', { labels: { 'module.koupleless.io/name': 'biz1' } });
  const placedOnA = [{ pod: oldPod, node: a }];

  it('on the hostname key keeps the pod off the base that runs a matching pod only', () => {
    const pod = withAnti('new', { ...sameName, topologyKey: HOST });
    expect(podAffinityMisfit(pod, a, placedOnA)).toEqual({ kind: 'PodAntiAffinity', topologyKey: HOST });
    expect(podAffinityMisfit(pod, b, placedOnA)).toBeUndefined();
  });

  it('on the zone key keeps the pod out of the whole zone', () => {
    const pod = withAnti('new', { ...sameName, topologyKey: ZONE });
    expect(podAffinityMisfit(pod, b, placedOnA)?.kind).toBe('PodAntiAffinity');
    expect(podAffinityMisfit(pod, c, placedOnA)).toBeUndefined();
  });

  it('is ignored on a node without the topology key (VNodes without a zone)', () => {
    const pod = withAnti('new', { ...sameName, topologyKey: ZONE });
    const zoneless = node('a');
    expect(podAffinityMisfit(pod, zoneless, [{ pod: oldPod, node: zoneless }])).toBeUndefined();
  });

  it('with matchLabelKeys [pod-template-hash] spreads one ReplicaSet but lets a new version beside the old pod', () => {
    const term = { ...sameName, matchLabelKeys: ['pod-template-hash'], topologyKey: HOST };
    const old = modulePod('old', {
      labels: { 'module.koupleless.io/name': 'biz1', 'pod-template-hash': 'v1' },
    });
    const sibling = withAnti('sibling', term, { 'pod-template-hash': 'v1' });
    const next = withAnti('next', term, { 'pod-template-hash': 'v2' });
    expect(podAffinityMisfit(sibling, a, [{ pod: old, node: a }])?.kind).toBe('PodAntiAffinity');
    expect(podAffinityMisfit(next, a, [{ pod: old, node: a }])).toBeUndefined();
  });

  it('applies to the pod’s own namespace unless the term names others', () => {
    const pod = withAnti('new', { ...sameName, topologyKey: HOST });
    const elsewhere = [
      { pod: modulePod('x', { namespace: 'other', labels: sameName.labelSelector.matchLabels }), node: a },
    ];
    expect(podAffinityMisfit(pod, a, elsewhere)).toBeUndefined();
    const wide = withAnti('new', { ...sameName, topologyKey: HOST, namespaces: ['other'] });
    expect(podAffinityMisfit(wide, a, elsewhere)?.kind).toBe('PodAntiAffinity');
    const all = withAnti('new', { ...sameName, topologyKey: HOST, namespaceSelector: {} });
    expect(podAffinityMisfit(all, a, elsewhere)?.kind).toBe('PodAntiAffinity');
  });
});

describe('podAffinityMisfit: anti-affinity of placed pods (symmetry)', () => {
  it('keeps a pod off a base whose pod refuses it', () => {
    const a = node('a');
    const guard = withAnti('guard', { labelSelector: { matchLabels: { app: 'noisy' } }, topologyKey: HOST });
    const noisy = modulePod('noisy', { labels: { app: 'noisy' } });
    expect(podAffinityMisfit(noisy, a, [{ pod: guard, node: a }])).toEqual({
      kind: 'ExistingPodAntiAffinity',
      topologyKey: HOST,
    });
    expect(podAffinityMisfit(noisy, node('b'), [{ pod: guard, node: a }])).toBeUndefined();
  });
});

describe('podAffinityMisfit: required affinity', () => {
  const term = { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: HOST };
  const pod = modulePod('web', {
    spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } },
  });

  it('needs a matching pod in the same topology', () => {
    const a = node('a');
    const placed = [{ pod: modulePod('db', { labels: { app: 'db' } }), node: a }];
    expect(podAffinityMisfit(pod, a, placed)).toBeUndefined();
    expect(podAffinityMisfit(pod, node('b'), placed)).toEqual({ kind: 'PodAffinity', topologyKey: HOST });
  });

  it('lets the first pod of a group go anywhere when it matches its own term', () => {
    const first = modulePod('db-0', {
      labels: { app: 'db' },
      spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } },
    });
    expect(podAffinityMisfit(first, node('a'), [])).toBeUndefined();
    expect(podAffinityMisfit(pod, node('a'), [])?.kind).toBe('PodAffinity');
  });
});

describe('selectors', () => {
  it('match labels and expressions; a term without a selector matches nothing', () => {
    const labels = { app: 'a', tier: 'web' };
    expect(selectorMatches({}, labels)).toBe(true);
    expect(
      selectorMatches(
        {
          matchLabels: { app: 'a' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['web'] },
            { key: 'gone', operator: 'DoesNotExist' },
            { key: 'app', operator: 'NotIn', values: ['b'] },
            { key: 'tier', operator: 'Exists' },
          ],
        },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, labels),
    ).toBe(false);
    const pod = modulePod('p', { labels });
    expect(termMatches({ topologyKey: HOST }, pod, pod)).toBe(false);
  });

  it('mismatchLabelKeys selects pods whose value differs', () => {
    const owner = modulePod('o', { labels: { tenant: 't1' } });
    const term = { labelSelector: {}, mismatchLabelKeys: ['tenant'], topologyKey: HOST };
    expect(termMatches(term, owner, modulePod('x', { labels: { tenant: 't2' } }))).toBe(true);
    expect(termMatches(term, owner, modulePod('y', { labels: { tenant: 't1' } }))).toBe(false);
  });
});
