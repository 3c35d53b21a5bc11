import { describe, expect, it } from 'vitest';
import { filterBases, unavailableMessage, type BaseSlots } from '../../../core/scheduling/node-fit.ts';
import { modulePod, node } from './fixtures.ts';

const slots = (n: ReturnType<typeof node>, pods = 0, cap?: number): BaseSlots => ({
  node: n,
  pods: Array.from({ length: pods }, (_, i) => modulePod(`${n.metadata?.name ?? ''}-${String(i)}`)),
  cap: cap ?? Number(n.status?.allocatable?.['pods']),
});

describe('filterBases', () => {
  it('keeps the bases a pod fits and names why each other one does not', () => {
    const pod = modulePod('p', { spec: { nodeSelector: { 'base.koupleless.io/name': 'base' } } });
    const named = { 'base.koupleless.io/name': 'base' };
    const result = filterBases(pod, [
      slots(node('ok', { labels: named })),
      slots(node('down', { labels: named, ready: false })),
      slots(node('cordoned', { labels: named, unschedulable: true })),
      slots(node('other', { labels: { 'base.koupleless.io/name': 'other' } })),
      slots(
        node('tainted', { labels: named, taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }),
      ),
      slots(node('full', { labels: named, pods: 2 }), 2),
    ]);
    expect(result.fits.map((f) => f.node.metadata?.name)).toEqual(['ok']);
    expect(Object.fromEntries(result.misfits.map((m) => [m.node, m.reason]))).toEqual({
      down: 'NodeNotReady',
      cordoned: 'NodeUnschedulable',
      other: 'NodeAffinity',
      tainted: 'Taint',
      full: 'ModuleCap',
    });
  });

  it('refuses a pod that does not tolerate the virtual-node taint', () => {
    const pod = modulePod('p', { spec: { tolerations: [] } });
    expect(filterBases(pod, [slots(node('a'))]).misfits[0]?.reason).toBe('Taint');
  });

  it('applies required pod anti-affinity against the pods on every base', () => {
    const pod = modulePod('p', {
      labels: { app: 'biz1' },
      spec: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: 'biz1' } }, topologyKey: 'kubernetes.io/hostname' },
            ],
          },
        },
      },
    });
    const a = node('a');
    const result = filterBases(pod, [
      { node: a, pods: [modulePod('q', { labels: { app: 'biz1' } })], cap: 3 },
      slots(node('b')),
    ]);
    expect(result.fits.map((f) => f.node.metadata?.name)).toEqual(['b']);
    expect(result.misfits[0]?.reason).toBe('PodAntiAffinity');
  });

  it('treats a base without a published cap as unlimited', () => {
    expect(
      filterBases(modulePod('p'), [{ node: node('a'), pods: [modulePod('q')], cap: undefined }]).fits,
    ).toHaveLength(1);
  });
});

describe('unavailableMessage', () => {
  it('counts the reasons in kube-scheduler’s form', () => {
    const pod = modulePod('p', { spec: { nodeSelector: { zone: 'x' } } });
    const { misfits } = filterBases(pod, [
      slots(node('a', { pods: 1, labels: { zone: 'x' } }), 1),
      slots(node('b', { pods: 1, labels: { zone: 'x' } }), 1),
      slots(node('c')),
    ]);
    expect(unavailableMessage(3, misfits)).toBe(
      "0/3 nodes are available: 2 base(s) were at their module cap (allocatable pods 1), 1 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it('names the filterNodes plugins that removed fits, and says when there is no base at all', () => {
    expect(unavailableMessage(2, [], { count: 2, plugins: ['zones'] })).toBe(
      '0/2 nodes are available: 2 node(s) were filtered out by filterNodes plugins (zones).',
    );
    expect(unavailableMessage(0, [])).toMatch(/^0\/0 nodes are available: no Koupleless base/);
  });
});
