import type { V1Node, V1NodeSelectorRequirement, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { templateFitsNode } from '../../../core/kube/node-affinity.ts';

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
