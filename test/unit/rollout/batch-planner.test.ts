import { describe, expect, it } from 'vitest';
import {
  batchSizes,
  planByCount,
  planBySizes,
  rescalePlan,
  unavailableBudget,
} from '../../../core/rollout/batch-planner.ts';
import { gateDecision, SAFETY_RECHECK_MS, type GateInput } from '../../../core/rollout/install-gate.ts';
import { isTerminal, type ModuleRolloutStatus } from '../../../core/rollout/module-rollout.ts';

describe('batch planning', () => {
  it('splits replicas into batchCount batches, larger first (10 / 3 → 4, 3, 3)', () => {
    expect(batchSizes(10, 3, false)).toEqual([4, 3, 3]);
    expect(planByCount(10, 3, false)).toEqual([4, 7, 10]);
  });

  it('with beta, puts one pod first and splits the rest into batchCount − 1 batches (10 / 3 → 1, 5, 4)', () => {
    expect(batchSizes(10, 3, true)).toEqual([1, 5, 4]);
    expect(planByCount(10, 3, true)).toEqual([1, 6, 10]);
  });

  it.each([
    [0, 3, false, []],
    [1, 3, false, [1]],
    [2, 3, false, [1, 2]],
    [2, 1, false, [2]],
    [1, 3, true, [1]],
    [2, 3, true, [1, 2]],
    [3, 10, false, [1, 2, 3]],
    [5, 10, true, [1, 2, 3, 4, 5]],
    [10, 1, false, [10]],
    [10, 1, true, [1, 10]],
  ])('%i replicas, batchCount %i, beta %s → %j', (replicas, count, beta, expected) => {
    expect(planByCount(replicas, count, beta)).toEqual(expected);
  });

  it('never makes an empty batch when batchCount exceeds replicas', () => {
    for (let replicas = 1; replicas <= 12; replicas += 1) {
      for (const beta of [false, true]) {
        const sizes = batchSizes(replicas, 20, beta);
        expect(sizes.every((size) => size > 0)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(replicas);
      }
    }
  });

  it('takes explicit cumulative sizes as counts or percentages, rounding percentages up', () => {
    expect(planBySizes(10, [1, '50%', '100%'])).toEqual([1, 5, 10]);
    expect(planBySizes(3, ['30%', '60%'])).toEqual([1, 2, 3]);
    expect(planBySizes(10, [2, 5])).toEqual([2, 5, 10]);
  });

  it('drops sizes that would not grow the target and caps them at the replicas', () => {
    expect(planBySizes(4, [1, 1, '10%', 9])).toEqual([1, 4]);
    expect(planBySizes(0, [1, '50%'])).toEqual([]);
  });

  it('refuses a size that is neither a count nor a percentage', () => {
    expect(() => planBySizes(10, ['half'])).toThrow('"half"');
  });

  describe('scaling during a rollout', () => {
    it('keeps the targets of started batches and re-plans the rest for the new count (10 → 12 in batch 2)', () => {
      const before = planByCount(10, 3, true); // [1, 6, 10]
      expect(rescalePlan(before, 2, 12)).toEqual([1, 6, 12]);
    });

    it('caps started batches at a smaller count and ends the plan there (10 → 4 in batch 2)', () => {
      expect(rescalePlan([1, 6, 10], 2, 4)).toEqual([1, 4]);
    });

    it('splits the pods left over the batches left (10 → 13 in batch 1 of 1, 6, 10)', () => {
      expect(rescalePlan([1, 6, 10], 1, 13)).toEqual([1, 7, 13]);
    });

    it('re-plans everything when no batch has started', () => {
      expect(rescalePlan([4, 7, 10], 0, 6)).toEqual([2, 4, 6]);
    });

    it('empties the plan when scaled to zero', () => {
      expect(rescalePlan([1, 6, 10], 1, 0)).toEqual([]);
    });
  });

  describe('small replica counts', () => {
    it.each([
      [0, 1, false],
      [0, 3, false],
      [0, 3, true],
      [0, 1, true],
    ])('%i replicas, batchCount %i, beta %s → no batch at all', (replicas, count, beta) => {
      expect(batchSizes(replicas, count, beta)).toEqual([]);
      expect(planByCount(replicas, count, beta)).toEqual([]);
    });

    it('1 replica is one batch of one pod, whatever the batchCount, with or without beta', () => {
      for (const count of [1, 2, 3, 10]) {
        expect(planByCount(1, count, false)).toEqual([1]);
        expect(planByCount(1, count, true)).toEqual([1]);
      }
    });

    it('2 replicas: two one-pod batches once there is a beta or a second batch', () => {
      expect(planByCount(2, 1, true)).toEqual([1, 2]);
      expect(planByCount(2, 2, true)).toEqual([1, 2]);
      expect(planByCount(2, 10, true)).toEqual([1, 2]);
      expect(planByCount(2, 2, false)).toEqual([1, 2]);
    });

    it('takes a batchCount below 1 as one batch', () => {
      expect(planByCount(5, 0, false)).toEqual([5]);
      expect(planByCount(5, 0, true)).toEqual([1, 5]);
    });
  });

  describe('batchCount above the replicas', () => {
    it('makes one pod per batch, never more batches than pods', () => {
      expect(planByCount(4, 7, false)).toEqual([1, 2, 3, 4]);
      expect(planByCount(4, 7, true)).toEqual([1, 2, 3, 4]);
      for (let replicas = 1; replicas <= 8; replicas += 1) {
        for (const beta of [false, true]) {
          expect(planByCount(replicas, replicas + 5, beta)).toHaveLength(replicas);
        }
      }
    });

    it('with beta, counts the beta batch among batchCount (3 replicas / 3 batches → 1, 1, 1)', () => {
      expect(batchSizes(3, 3, true)).toEqual([1, 1, 1]);
      expect(batchSizes(3, 2, true)).toEqual([1, 2]);
    });
  });

  describe('explicit sizes with percentages', () => {
    it('rounds percentages up so the first batch of a small Deployment is never empty', () => {
      expect(planBySizes(1, ['10%', '100%'])).toEqual([1]);
      expect(planBySizes(2, ['10%', '50%', '100%'])).toEqual([1, 2]);
      expect(planBySizes(8, ['12.5%', '50%'])).toEqual([1, 4, 8]);
      expect(planBySizes(10, ['25%', '50%', '75%'])).toEqual([3, 5, 8, 10]);
    });

    it('mixes counts and percentages, drops a 0 % or 0 target, floors a fractional count', () => {
      expect(planBySizes(10, [0, '0%', 1, '50%'])).toEqual([1, 5, 10]);
      expect(planBySizes(10, [2.7, '30%'])).toEqual([2, 3, 10]);
    });

    it('caps a percentage above 100 % at the replicas and reads a padded one', () => {
      expect(planBySizes(6, ['150%'])).toEqual([6]);
      expect(planBySizes(6, [' 50% '])).toEqual([3, 6]);
    });

    it('refuses a percentage it cannot read', () => {
      expect(() => planBySizes(10, ['-10%'])).toThrow('"-10%"');
      expect(() => planBySizes(10, ['50 %'])).toThrow('"50 %"');
    });
  });

  describe('scaling during a rollout: edge cases', () => {
    it('scaled up in the last batch: that batch keeps its target and the new pods get a batch of their own', () => {
      expect(rescalePlan([1, 6, 10], 3, 12)).toEqual([1, 6, 10, 12]);
    });

    it('keeps the beta batch at one pod when scaled up after it started', () => {
      expect(rescalePlan([1, 6, 10], 1, 20)).toEqual([1, 11, 20]);
    });

    it('scaled down above the started targets: they stay, the rest ends at the new count', () => {
      expect(rescalePlan([1, 6, 10], 2, 8)).toEqual([1, 6, 8]);
      expect(rescalePlan([1, 6, 10], 2, 6)).toEqual([1, 6]);
    });

    it('scaled down below a started target: it is capped at the new count, and batches that collapse go', () => {
      expect(rescalePlan([1, 6, 10], 2, 3)).toEqual([1, 3]);
      expect(rescalePlan([1, 6, 10], 2, 1)).toEqual([1]);
    });

    it('scaled up from a plan with nothing left to plan (0 replicas) re-plans from scratch', () => {
      expect(rescalePlan([], 0, 4)).toEqual([4]);
    });

    it('never lowers a started batch below its target unless fewer pods exist, and always ends at the replicas', () => {
      const plans = [[1, 6, 10], [4, 7, 10], [1, 2, 3, 4, 5], [2, 5], [10]];
      for (const previous of plans) {
        for (let started = 0; started <= previous.length; started += 1) {
          for (let replicas = 0; replicas <= 16; replicas += 1) {
            const next = rescalePlan(previous, started, replicas);
            const label = `${JSON.stringify(previous)} started ${String(started)} → ${String(replicas)}: ${JSON.stringify(next)}`;
            // Strictly increasing, never above the replicas, ending at them.
            next.forEach((target, i) => {
              expect(target, label).toBeGreaterThan(next[i - 1] ?? 0);
              expect(target, label).toBeLessThanOrEqual(replicas);
            });
            expect(next.at(-1) ?? 0, label).toBe(replicas);
            // Every started batch's target is still in the plan, capped at the replicas.
            if (replicas > 0) {
              for (const target of previous.slice(0, started)) {
                expect(next, label).toContain(Math.min(target, replicas));
              }
            }
            // The started batches come first, in order: batch n keeps its place while its target exists.
            const kept = previous.slice(0, started).filter((target) => target <= replicas);
            expect(next.slice(0, kept.length), label).toEqual(kept);
          }
        }
      }
    });
  });

  describe('supersede: a new revision applied while a rollout runs', () => {
    // No pure function plans a superseding revision specially: it gets a ModuleRollout of its own, planned
    // like any update over all the replicas (planByCount / planBySizes, its targets counting its own pods
    // only). The pure piece that decides what happens to every pod meanwhile is the install gate.
    const status = (over: Partial<ModuleRolloutStatus> = {}): ModuleRolloutStatus => ({
      phase: 'Progressing',
      plan: [1, 6, 10],
      currentBatch: 1,
      ...over,
    });
    const input = (over: Partial<GateInput> = {}): GateInput => ({
      deployment: 'biz1',
      targetRevision: 3,
      podRevision: 'target',
      podRevisionNumber: 3,
      rollout: status(),
      paused: false,
      admittedTarget: 0,
      baseRunsTarget: false,
      ...over,
    });

    it('ends the superseded rollout: Superseded is terminal', () => {
      expect(isTerminal('Superseded')).toBe(true);
      expect(isTerminal('Progressing')).toBe(false);
      expect(isTerminal('Holding')).toBe(false);
    });

    it('never installs a held pod of the superseded revision (neither target nor stable)', () => {
      const hold = gateDecision(input({ podRevision: 'other', podRevisionNumber: 2 }));
      expect(hold).toMatchObject({ reason: 'RevisionGuard' });
      expect(hold?.message).toContain('revision 2 of biz1');
      expect(hold?.message).toContain('target (3)');
      // Whatever room the new rollout has.
      expect(
        gateDecision(
          input({ podRevision: 'other', podRevisionNumber: 2, rollout: status({ phase: 'Completed' }) }),
        ),
      ).toMatchObject({ reason: 'RevisionGuard' });
    });

    it('holds a pod whose own rollout was superseded, while the newer revision is not seen yet', () => {
      expect(
        gateDecision(
          input({ targetRevision: 2, podRevisionNumber: 2, rollout: status({ phase: 'Superseded' }) }),
        ),
      ).toMatchObject({ reason: 'RolloutSuperseded' });
      expect(gateDecision(input({ rollout: status({ phase: 'Aborted' }) }))).toMatchObject({
        reason: 'RolloutAborted',
      });
    });

    it("admits the superseding revision's pods by its own batches", () => {
      expect(gateDecision(input({ rollout: undefined }))).toMatchObject({ reason: 'AwaitingRollout' });
      expect(gateDecision(input({ rollout: status({ currentBatch: 0 }) }))).toMatchObject({
        reason: 'AwaitingBatch',
      });
      expect(gateDecision(input({ admittedTarget: 0 }))).toBeUndefined();
      // Room can free without a status change (an admitted pod deleted): a full batch looks again on its own.
      expect(gateDecision(input({ admittedTarget: 1 }))).toMatchObject({
        reason: 'BatchFull',
        recheckAfterMs: SAFETY_RECHECK_MS,
      });
      expect(
        gateDecision(input({ admittedTarget: 5, rollout: status({ currentBatch: 2 }) })),
      ).toBeUndefined();
    });

    it('lets a stable pod install only on a base that runs no version of the new revision', () => {
      expect(gateDecision(input({ podRevision: 'stable', podRevisionNumber: 1 }))).toBeUndefined();
      expect(
        gateDecision(input({ podRevision: 'stable', podRevisionNumber: 1, baseRunsTarget: true })),
      ).toMatchObject({ reason: 'RevisionGuard' });
    });
  });

  it('rounds an unavailability budget down, as Kubernetes does', () => {
    expect(unavailableBudget('30%', 10)).toBe(3);
    expect(unavailableBudget('30%', 3)).toBe(0);
    expect(unavailableBudget(1, 10)).toBe(1);
    expect(unavailableBudget('2', 10)).toBe(2);
    expect(unavailableBudget(undefined, 10)).toBeUndefined();
  });
});
