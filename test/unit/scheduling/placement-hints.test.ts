import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { placementHints, type BaseModules } from '../../../core/scheduling/placement-hints.ts';
import { modulePod } from './fixtures.ts';

const DEPLOYMENT = 'deploy-uid';
const ownerOf = (pod: V1Pod) => (pod.metadata?.ownerReferences?.length ? DEPLOYMENT : undefined);
const base = (nodeName: string, extra: Partial<BaseModules> = {}): BaseModules => ({
  nodeName,
  pods: [],
  retained: [],
  inventory: [],
  ...extra,
});
const oldPod = (name: string) => modulePod(name, { bizVersion: '0.0.1', owner: 'rs-old' });
const newPod = (name: string) => modulePod(name, { bizVersion: '0.0.2', owner: 'rs-new' });

describe('placementHints', () => {
  const input = (pod: V1Pod, bases: BaseModules[], current = true) => ({
    pod,
    workloadUid: DEPLOYMENT,
    ownerOf,
    current,
    currentVersions: new Map([['biz1', '0.0.2']]),
    bases,
  });

  it('prefers the bases where the old version of the workload runs, not an empty one', () => {
    const hints = placementHints(
      input(newPod('n1'), [
        base('a', { pods: [oldPod('o1')] }),
        base('b', { pods: [oldPod('o2')] }),
        base('c'),
      ]),
    );
    expect([...hints.inPlace].sort()).toEqual(['a', 'b']);
    expect(hints.avoid.size).toBe(0);
  });

  it('no longer prefers a base that already has a pod of the new version', () => {
    const hints = placementHints(
      input(newPod('n2'), [
        base('a', { pods: [oldPod('o1'), newPod('n1')] }),
        base('b', { pods: [oldPod('o2')] }),
      ]),
    );
    expect([...hints.inPlace]).toEqual(['b']);
  });

  it('prefers a base holding a retained instance of the workload (its old pod already deleted)', () => {
    const retained = [{ workloadUid: DEPLOYMENT, bizName: 'biz1', bizVersion: '0.0.1' }];
    const hints = placementHints(input(newPod('n1'), [base('a', { retained }), base('b')]));
    expect([...hints.inPlace]).toEqual(['a']);
  });

  it('prefers a base whose inventory runs another version (installed outside any pod)', () => {
    const hints = placementHints(
      input(newPod('n1'), [base('a', { inventory: [{ bizName: 'biz1', bizVersion: '0.0.1' }] }), base('b')]),
    );
    expect([...hints.inPlace]).toEqual(['a']);
  });

  it('ignores other workloads’ pods and other modules', () => {
    const stranger = modulePod('s', { bizVersion: '0.0.1' });
    const other = modulePod('x', { bizName: 'biz9', owner: 'rs-old' });
    const hints = placementHints(
      input(newPod('n1'), [base('a', { pods: [stranger] }), base('b', { pods: [other] })]),
    );
    expect(hints.inPlace.size).toBe(0);
  });

  it('steers a pod of the old revision away from bases that run the current version', () => {
    const hints = placementHints(
      input(oldPod('o3'), [base('a', { pods: [newPod('n1')] }), base('b', { pods: [oldPod('o1')] })], false),
    );
    expect([...hints.avoid]).toEqual(['a']);
    expect(hints.inPlace.size).toBe(0);
  });
});
