import type { V1Node, V1NodeSelectorRequirement, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { preferredAffinityWeight, templateFitsNode } from '../../../core/kube/node-affinity.ts';

const node = (name: string, labels: Record<string, string>): V1Node => ({ metadata: { name, labels } });
const withTerms = (...terms: V1NodeSelectorRequirement[][]): V1PodSpec => ({
  containers: [],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })),
      },
    },
  },
});

describe('templateFitsNode', () => {
  const base = node('vn-1', {
    'base.koupleless.io/name': 'base',
    'base.koupleless.io/version': '1.0.0',
    cpu: '8',
  });

  it('fits any node without selector or affinity', () => {
    expect(templateFitsNode({ containers: [] }, base)).toBe(true);
    expect(templateFitsNode(undefined, base)).toBe(true);
  });

  it('needs every nodeSelector label', () => {
    expect(
      templateFitsNode({ containers: [], nodeSelector: { 'base.koupleless.io/name': 'base' } }, base),
    ).toBe(true);
    expect(
      templateFitsNode(
        { containers: [], nodeSelector: { 'base.koupleless.io/name': 'base', missing: 'x' } },
        base,
      ),
    ).toBe(false);
  });

  it.each([
    [{ key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0', '2.0.0'] }, true],
    [{ key: 'base.koupleless.io/version', operator: 'In', values: ['2.0.0'] }, false],
    [{ key: 'base.koupleless.io/version', operator: 'NotIn', values: ['2.0.0'] }, true],
    [{ key: 'absent', operator: 'NotIn', values: ['x'] }, true],
    [{ key: 'base.koupleless.io/name', operator: 'Exists' }, true],
    [{ key: 'absent', operator: 'Exists' }, false],
    [{ key: 'absent', operator: 'DoesNotExist' }, true],
    [{ key: 'cpu', operator: 'Gt', values: ['4'] }, true],
    [{ key: 'cpu', operator: 'Lt', values: ['4'] }, false],
    [{ key: 'base.koupleless.io/name', operator: 'Gt', values: ['4'] }, false],
    [{ key: 'cpu', operator: 'Unknown', values: ['4'] }, false],
  ] as [V1NodeSelectorRequirement, boolean][])('%o → %s', (requirement, fits) => {
    expect(templateFitsNode(withTerms([requirement]), base)).toBe(fits);
  });

  it('ANDs the expressions of a term and ORs the terms', () => {
    const v1 = { key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0'] };
    const v2 = { key: 'base.koupleless.io/version', operator: 'In', values: ['2.0.0'] };
    const named = { key: 'base.koupleless.io/name', operator: 'In', values: ['base'] };
    expect(templateFitsNode(withTerms([v1, named]), base)).toBe(true);
    expect(templateFitsNode(withTerms([v2, named]), base)).toBe(false);
    expect(templateFitsNode(withTerms([v2], [v1]), base)).toBe(true);
  });

  it('matches no node with an empty term, and reads metadata.name from matchFields', () => {
    expect(templateFitsNode(withTerms([]), base)).toBe(false);
    const byName: V1PodSpec = {
      containers: [],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['vn-1'] }] },
            ],
          },
        },
      },
    };
    expect(templateFitsNode(byName, base)).toBe(true);
    expect(templateFitsNode(byName, node('vn-2', {}))).toBe(false);
  });
});

describe('preferredAffinityWeight', () => {
  const zoneA = node('vn-a', { zone: 'a', tier: 'gold' });
  const zoneB = node('vn-b', { zone: 'b' });
  const preferring = (
    ...terms: { weight: number; matchExpressions: V1NodeSelectorRequirement[] }[]
  ): V1PodSpec => ({
    containers: [],
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: terms.map(({ weight, matchExpressions }) => ({
          weight,
          preference: { matchExpressions },
        })),
      },
    },
  });

  it('sums the weights of the terms the node matches', () => {
    const spec = preferring(
      { weight: 10, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      { weight: 5, matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
      { weight: 7, matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] },
    );
    expect(preferredAffinityWeight(spec, zoneA)).toBe(15);
    expect(preferredAffinityWeight(spec, zoneB)).toBe(0);
  });

  it('is 0 without preferred terms, and an empty preference matches nothing', () => {
    expect(preferredAffinityWeight({ containers: [] }, zoneA)).toBe(0);
    expect(preferredAffinityWeight(undefined, zoneA)).toBe(0);
    expect(preferredAffinityWeight(preferring({ weight: 10, matchExpressions: [] }), zoneA)).toBe(0);
  });

  it('does not filter: a node no required term names may still be preferred or not', () => {
    const spec = preferring({
      weight: 3,
      matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }],
    });
    expect(templateFitsNode(spec, zoneA)).toBe(true);
    expect(preferredAffinityWeight(spec, zoneA)).toBe(0);
    expect(preferredAffinityWeight(spec, zoneB)).toBe(3);
  });
});
