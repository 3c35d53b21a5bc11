import { describe, expect, it } from 'vitest';
import {
  batchSizes,
  planByCount,
  planBySizes,
  rescalePlan,
  unavailableBudget,
} from '../../../core/rollout/batch-planner.ts';

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

  it('rounds an unavailability budget down, as Kubernetes does', () => {
    expect(unavailableBudget('30%', 10)).toBe(3);
    expect(unavailableBudget('30%', 3)).toBe(0);
    expect(unavailableBudget(1, 10)).toBe(1);
    expect(unavailableBudget('2', 10)).toBe(2);
    expect(unavailableBudget(undefined, 10)).toBeUndefined();
  });
});
