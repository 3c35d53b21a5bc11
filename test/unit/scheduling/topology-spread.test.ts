import type { V1Node, V1Pod, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { filterBases, unavailableMessage } from '../../../core/scheduling/node-fit.ts';
import { pickBest, scoreCandidates, SPREAD_MAX } from '../../../core/scheduling/node-score.ts';
import { topologySpread, type SpreadBase } from '../../../core/scheduling/topology-spread.ts';
import { modulePod, node, TOLERATE_VNODE } from './fixtures.ts';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const APP = { app: 'biz1' };

function spreadPod(
  name: string,
  constraints: V1TopologySpreadConstraint[],
  labels: Record<string, string> = APP,
  spec: Partial<V1Pod['spec']> = {},
): V1Pod {
  return modulePod(name, {
    labels,
    spec: { topologySpreadConstraints: constraints, tolerations: TOLERATE_VNODE, ...spec },
  });
}

const zoneConstraint = (over: Partial<V1TopologySpreadConstraint> = {}): V1TopologySpreadConstraint => ({
  maxSkew: 1,
  topologyKey: ZONE,
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: APP },
  ...over,
});

/** Bases a1, a2 in zone a and b1 in zone b, with `counts` pods of biz1 on each. */
function zones(counts: Record<string, number>, extra: Record<string, V1Node> = {}): SpreadBase[] {
  const nodes: Record<string, V1Node> = {
    a1: node('a1', { labels: { [ZONE]: 'a' } }),
    a2: node('a2', { labels: { [ZONE]: 'a' } }),
    b1: node('b1', { labels: { [ZONE]: 'b' } }),
    ...extra,
  };
  return Object.entries(nodes).map(([name, n]) => ({
    node: n,
    pods: Array.from({ length: counts[name] ?? 0 }, (_, i) =>
      modulePod(`${name}-${String(i)}`, { labels: APP, nodeName: name }),
    ),
  }));
}

const nodeOf = (bases: readonly SpreadBase[], name: string): V1Node => {
  const found = bases.find((b) => b.node.metadata?.name === name);
  if (!found) throw new Error(name);
  return found.node;
};

describe('topologySpread: DoNotSchedule', () => {
  it('keeps the pod out of the zone whose skew would pass maxSkew, and lets it into the emptier zone', () => {
    // Zone a runs 2 (1 + 1), zone b runs 1: a third in zone a would make it 3 against 1.
    const bases = zones({ a1: 1, a2: 1, b1: 1 });
    const spread = topologySpread(spreadPod('new', [zoneConstraint()]), bases);
    expect(spread.misfit(nodeOf(bases, 'a1'))).toEqual({
      kind: 'MaxSkew',
      topologyKey: ZONE,
      skew: 2,
      maxSkew: 1,
    });
    expect(spread.misfit(nodeOf(bases, 'a2'))?.kind).toBe('MaxSkew');
    expect(spread.misfit(nodeOf(bases, 'b1'))).toBeUndefined();
  });

  it('allows the skew maxSkew allows', () => {
    const bases = zones({ a1: 1, a2: 1, b1: 1 });
    const spread = topologySpread(spreadPod('new', [zoneConstraint({ maxSkew: 2 })]), bases);
    expect(spread.misfit(nodeOf(bases, 'a1'))).toBeUndefined();
  });

  it('refuses a base without the topology key (missing required label)', () => {
    const bases = zones({}, { bare: node('bare') });
    const spread = topologySpread(spreadPod('new', [zoneConstraint()]), bases);
    expect(spread.misfit(nodeOf(bases, 'bare'))).toEqual({ kind: 'MissingTopologyKey', topologyKey: ZONE });
    expect(spread.misfit(nodeOf(bases, 'a1'))).toBeUndefined();
  });

  it('counts only pods its selector selects, in the pod’s namespace, not terminating', () => {
    const bases = zones({ b1: 1 });
    const a1 = bases[0];
    if (!a1) throw new Error('a1');
    const others: V1Pod[] = [
      modulePod('other-app', { labels: { app: 'biz2' }, nodeName: 'a1' }),
      modulePod('other-ns', { labels: APP, namespace: 'elsewhere', nodeName: 'a1' }),
      modulePod('leaving', { labels: APP, nodeName: 'a1', deleting: true }),
    ];
    const withOthers = [{ ...a1, pods: others }, ...bases.slice(1)];
    const spread = topologySpread(spreadPod('new', [zoneConstraint()]), withOthers);
    // Zone a counts 0 against zone b's 1: the pod may go there.
    expect(spread.misfit(nodeOf(withOthers, 'a1'))).toBeUndefined();
  });

  it('with matchLabelKeys counts only the pods of the incoming pod’s revision', () => {
    const hashed = (hash: string) => ({ ...APP, 'pod-template-hash': hash });
    const bases: SpreadBase[] = [
      { node: node('a1', { labels: { [ZONE]: 'a' } }), pods: [modulePod('old', { labels: hashed('v1') })] },
      { node: node('b1', { labels: { [ZONE]: 'b' } }), pods: [] },
    ];
    const constraint = zoneConstraint({ matchLabelKeys: ['pod-template-hash'] });
    expect(
      topologySpread(spreadPod('new', [constraint], hashed('v2')), bases).misfit(nodeOf(bases, 'a1')),
    ).toBeUndefined();
    expect(
      topologySpread(spreadPod('sib', [constraint], hashed('v1')), bases).misfit(nodeOf(bases, 'a1'))?.kind,
    ).toBe('MaxSkew');
  });

  it('does not count itself when its own labels do not match the selector', () => {
    const bases = zones({ a1: 1 });
    const foreign = spreadPod('new', [zoneConstraint()], { app: 'other' });
    // Zone a has 1, zone b 0: skew 1 + 0 − 0 = 1, allowed.
    expect(topologySpread(foreign, bases).misfit(nodeOf(bases, 'a1'))).toBeUndefined();
  });

  it('takes the global minimum as 0 while fewer domains than minDomains exist', () => {
    // Zones a and b run 1 each: the minimum is 1 and a second pod in zone a has skew 1. With minDomains 3 the
    // minimum is 0 and its skew is 2.
    const bases = zones({ a1: 1, b1: 1 });
    const pod = spreadPod('new', [zoneConstraint()]);
    expect(topologySpread(pod, bases).misfit(nodeOf(bases, 'a2'))).toBeUndefined();
    const wants3 = spreadPod('new', [zoneConstraint({ minDomains: 3 })]);
    expect(topologySpread(wants3, bases).misfit(nodeOf(bases, 'a2'))?.kind).toBe('MaxSkew');
  });

  it('leaves bases out of the count that the pod’s node affinity excludes, unless nodeAffinityPolicy is Ignore', () => {
    // The nodeSelector names zone a: zones b and c (c with 0 pods) are out of the count.
    const bases = zones({ a1: 1, b1: 1 }, { c1: node('c1', { labels: { [ZONE]: 'c', pool: 'other' } }) });
    const selectorSpec = { nodeSelector: { [ZONE]: 'a' } };
    const honour = spreadPod('new', [zoneConstraint()], APP, selectorSpec);
    // Only zone a is eligible (the selector names it), so it is its own minimum: skew 1 + 1 − 1 = 1.
    expect(topologySpread(honour, bases).misfit(nodeOf(bases, 'a2'))).toBeUndefined();
    const ignore = spreadPod('new', [zoneConstraint({ nodeAffinityPolicy: 'Ignore' })], APP, selectorSpec);
    // Every zone counts: zone c has 0, so a second pod in zone a has skew 2.
    expect(topologySpread(ignore, bases).misfit(nodeOf(bases, 'a2'))?.kind).toBe('MaxSkew');
  });

  it('with nodeTaintsPolicy Honor leaves untolerated bases out of the count', () => {
    const tainted = node('c1', {
      labels: { [ZONE]: 'c' },
      taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }],
    });
    const bases = zones({ a1: 1, b1: 1 }, { c1: tainted });
    const ignore = spreadPod('new', [zoneConstraint()]);
    // Default (Ignore): zone c counts with 0 pods, so zone a's second pod has skew 2.
    expect(topologySpread(ignore, bases).misfit(nodeOf(bases, 'a2'))?.kind).toBe('MaxSkew');
    const honour = spreadPod('new', [zoneConstraint({ nodeTaintsPolicy: 'Honor' })]);
    expect(topologySpread(honour, bases).misfit(nodeOf(bases, 'a2'))).toBeUndefined();
  });

  it('a constraint without a selector counts no pod', () => {
    const bases = zones({ a1: 3 });
    const bare: V1TopologySpreadConstraint = {
      maxSkew: 1,
      topologyKey: ZONE,
      whenUnsatisfiable: 'DoNotSchedule',
    };
    expect(topologySpread(spreadPod('new', [bare]), bases).misfit(nodeOf(bases, 'a1'))).toBeUndefined();
  });
});

describe('topologySpread in the filter', () => {
  it('names the failing bases in kube-scheduler’s words', () => {
    const bases = zones({ a1: 1, a2: 1, b1: 1 }, { bare: node('bare') }).map((b) => ({ ...b, cap: 10 }));
    const { fits, misfits } = filterBases(spreadPod('new', [zoneConstraint()]), bases);
    expect(fits.map((b) => b.node.metadata?.name)).toEqual(['b1']);
    expect(unavailableMessage(4, misfits)).toBe(
      "0/4 nodes are available: 2 node(s) didn't match pod topology spread constraints, " +
        "1 node(s) didn't match pod topology spread constraints (missing required label).",
    );
  });
});

describe('topologySpread: ScheduleAnyway', () => {
  const soft = zoneConstraint({ whenUnsatisfiable: 'ScheduleAnyway' });

  it('filters nothing, and calls the base in the emptier zone less crowded', () => {
    const bases = zones({ a1: 2, b1: 1 });
    const spread = topologySpread(spreadPod('new', [soft]), bases);
    expect(spread.misfit(nodeOf(bases, 'a1'))).toBeUndefined();
    const a = spread.crowding(nodeOf(bases, 'a2'));
    const b = spread.crowding(nodeOf(bases, 'b1'));
    expect(a).toBeGreaterThan(b ?? Number.POSITIVE_INFINITY);
  });

  it('gives a base without the topology key no crowding (it scores lowest)', () => {
    const bases = zones({}, { bare: node('bare') });
    expect(topologySpread(spreadPod('new', [soft]), bases).crowding(nodeOf(bases, 'bare'))).toBeUndefined();
  });

  it('adds up to SPREAD_MAX to the least crowded base: a soft wish that beats stacking by one module, not two', () => {
    const pod = spreadPod('new', [soft]);
    const place = (counts: Record<string, number>) => {
      const bases = zones(counts);
      const spread = topologySpread(pod, bases);
      const candidates = bases.map((b) => ({ node: b.node, modules: b.pods.length, cap: 3 }));
      const spreadCrowding = new Map(
        candidates.map((c) => [c.node.metadata?.name ?? '', spread.crowding(c.node)] as const),
      );
      return {
        scored: scoreCandidates(candidates, 'stacking', undefined, { spreadCrowding }),
        without: pickBest(scoreCandidates(candidates, 'stacking'))?.node.metadata?.name,
      };
    };
    // One module on a1: stacking alone picks a1 (33 against 0); the spread sends the pod to zone b (0 + 50).
    const one = place({ a1: 1 });
    const byName = new Map(one.scored.map((s) => [s.node.metadata?.name, s.score]));
    expect(byName.get('b1')).toBe(SPREAD_MAX);
    expect(byName.get('a2')).toBe(0);
    expect(pickBest(one.scored)?.node.metadata?.name).toBe('b1');
    expect(one.without).toBe('a1');
    // Two modules on a1 (67 against 50): stacking wins.
    expect(pickBest(place({ a1: 2 }).scored)?.node.metadata?.name).toBe('a1');
  });

  it('ranks a base without the keys below the others when those are all as crowded', () => {
    const candidates = ['a', 'bare'].map((name) => ({ node: node(name), modules: 0, cap: 3 }));
    const scored = scoreCandidates(candidates, 'scatter', undefined, {
      spreadCrowding: new Map([
        ['a', 0],
        ['bare', undefined],
      ]),
    });
    expect(scored.map((s) => s.score)).toEqual([100 + SPREAD_MAX, 100]);
  });

  it('counts hostname domains base by base', () => {
    const bases = zones({ a1: 1 });
    const spread = topologySpread(spreadPod('new', [{ ...soft, topologyKey: HOST }]), bases);
    expect(spread.crowding(nodeOf(bases, 'a1'))).toBeGreaterThan(0);
    expect(spread.crowding(nodeOf(bases, 'a2'))).toBe(0);
  });
});
