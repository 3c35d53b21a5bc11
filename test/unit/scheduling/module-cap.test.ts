import { describe, expect, it } from 'vitest';
import {
  allocatablePods,
  capAdmission,
  capRejectionStatus,
  MODULE_CAP_EXCEEDED,
  moduleCapFor,
  type SlotPod,
} from '../../../core/scheduling/module-cap.ts';
import { modulePod, node } from './fixtures.ts';

const base = { name: 'payments', clusterName: 'east' };

describe('moduleCapFor', () => {
  it('falls back to bases.capacity.pods when no rule is configured', () => {
    expect(moduleCapFor(base, undefined, 110)).toEqual({ cap: 110, source: 'capacity' });
  });

  it('takes a number as the cap of every base', () => {
    expect(moduleCapFor(base, 3, 110)).toEqual({ cap: 3, source: 'default' });
  });

  it('prefers the base name, then the cluster name, then the default, then the capacity', () => {
    const rules = { default: 4, byBaseName: { payments: 2 }, byClusterName: { east: 6 } };
    expect(moduleCapFor(base, rules, 110)).toEqual({ cap: 2, source: 'base-name' });
    expect(moduleCapFor({ name: 'orders', clusterName: 'east' }, rules, 110)).toEqual({
      cap: 6,
      source: 'cluster-name',
    });
    expect(moduleCapFor({ name: 'orders', clusterName: 'west' }, rules, 110)).toEqual({
      cap: 4,
      source: 'default',
    });
    expect(moduleCapFor({ name: 'orders', clusterName: 'west' }, { byBaseName: { payments: 2 } }, 7)).toEqual(
      {
        cap: 7,
        source: 'capacity',
      },
    );
  });

  it('allows a cap of 0 (no modules on that base) and ignores names a base does not report', () => {
    expect(moduleCapFor(base, { byBaseName: { payments: 0 } }, 110).cap).toBe(0);
    expect(moduleCapFor({ name: '', clusterName: '' }, { byBaseName: { '': 1 }, default: 5 }, 110).cap).toBe(
      5,
    );
    // Inherited object keys are not rules.
    expect(moduleCapFor({ name: 'toString', clusterName: '' }, { default: 5 }, 110).cap).toBe(5);
  });
});

describe('allocatablePods', () => {
  it('reads the cap a node publishes', () => {
    expect(allocatablePods(node('a', { pods: 3 }))).toBe(3);
    expect(allocatablePods(undefined)).toBeUndefined();
    expect(allocatablePods({ status: { allocatable: { pods: 'lots' } } })).toBeUndefined();
  });
});

describe('capAdmission', () => {
  const slot = (name: string, createdAt: number, extra: Partial<SlotPod> = {}): SlotPod => ({
    uid: name,
    name,
    admitted: false,
    deleting: false,
    terminal: false,
    createdAt,
    ...extra,
  });

  it('admits everything under the cap', () => {
    expect(capAdmission([slot('a', 1), slot('b', 2)], 3)).toEqual({ used: 2, rejected: [] });
  });

  it('refuses the newest waiting pods beyond the cap, keeping admitted ones', () => {
    const result = capAdmission(
      [slot('old', 1, { admitted: true }), slot('c', 4), slot('b', 3), slot('a', 3)],
      3,
    );
    expect(result.used).toBe(3);
    expect(result.rejected.map((p) => p.name)).toEqual(['c']);
  });

  it('counts admitted pods that are being deleted, and ignores terminal pods', () => {
    const result = capAdmission(
      [
        slot('leaving', 1, { admitted: true, deleting: true }),
        slot('failed', 2, { terminal: true }),
        slot('a', 3),
        slot('b', 4),
      ],
      2,
    );
    expect(result.rejected.map((p) => p.name)).toEqual(['b']);
  });

  it('never refuses admitted pods when the cap is lowered below them, and refuses every new one', () => {
    const result = capAdmission(
      [slot('x', 1, { admitted: true }), slot('y', 2, { admitted: true }), slot('new', 3)],
      1,
    );
    expect(result).toEqual({ used: 2, rejected: [slot('new', 3)] });
  });

  it('neither counts nor refuses waiting pods that are being deleted', () => {
    expect(capAdmission([slot('gone', 1, { deleting: true }), slot('a', 2)], 1).rejected).toEqual([]);
  });

  it('is deterministic: the same pods in another order refuse the same one', () => {
    const pods = [slot('a', 5), slot('b', 5), slot('c', 1)];
    expect(capAdmission(pods, 2).rejected.map((p) => p.name)).toEqual(['b']);
    expect(capAdmission([...pods].reverse(), 2).rejected.map((p) => p.name)).toEqual(['b']);
  });
});

describe('capRejectionStatus', () => {
  it('fails the pod with the reason on the pod, its conditions and every container', () => {
    const pod = modulePod('p');
    const status = capRejectionStatus(pod, new Date(0), 'full');
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe(MODULE_CAP_EXCEEDED);
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: MODULE_CAP_EXCEEDED,
      message: 'full',
    });
    expect(status.containerStatuses?.[0]?.state?.terminated?.reason).toBe(MODULE_CAP_EXCEEDED);
  });
});
