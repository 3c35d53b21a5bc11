import { describe, expect, it } from 'vitest';
import type { BizChange } from '../../../core/sim/biz-inventory.ts';
import { Timeline } from '../../../core/sim/timeline.ts';
import type { BizState } from '../../../core/tunnel/protocol/biz-state.ts';

function change(
  at: number,
  bizVersion: string,
  from: BizState | undefined,
  to: BizState | undefined,
  bizName = 'biz1',
): BizChange {
  return { at, bizName, bizVersion, from, to };
}

/** biz1:1 active from 100; at 200 biz1:2 takes over (switch); at 300 biz1:2 goes; at 400 biz1:3 comes. */
function rollout(): Timeline {
  const timeline = new Timeline();
  timeline.recordChanges([
    change(50, '1', undefined, 'RESOLVED'),
    change(100, '1', 'RESOLVED', 'ACTIVATED'),
    change(150, '2', undefined, 'RESOLVED'),
    change(150, '1', undefined, 'ACTIVATED', 'other'),
    change(200, '2', 'RESOLVED', 'ACTIVATED'),
    change(200, '1', 'ACTIVATED', 'DEACTIVATED'),
    change(300, '2', 'ACTIVATED', undefined),
    change(400, '3', undefined, 'ACTIVATED'),
  ]);
  return timeline;
}

describe('Timeline instants', () => {
  it('knows every version and its state at an instant', () => {
    const timeline = rollout();
    expect([...timeline.statesAt(49)]).toEqual([]);
    expect(Object.fromEntries(timeline.statesAt(150))).toEqual({
      'biz1:1': 'ACTIVATED',
      'biz1:2': 'RESOLVED',
      'other:1': 'ACTIVATED',
    });
    expect(Object.fromEntries(timeline.statesAt(250))).toEqual({
      'biz1:1': 'DEACTIVATED',
      'biz1:2': 'ACTIVATED',
      'other:1': 'ACTIVATED',
    });
  });

  it('lists what is ACTIVATED at an instant', () => {
    const timeline = rollout();
    expect(timeline.activatedAt(99)).toEqual([]);
    expect(timeline.activatedAt(100)).toEqual(['biz1:1']);
    expect(timeline.activatedAt(200)).toEqual(['biz1:2', 'other:1']);
    expect(timeline.activatedVersionsAt('biz1', 199)).toEqual(['1']);
    expect(timeline.activatedVersionsAt('biz1', 350)).toEqual([]);
    expect(timeline.activatedVersionsAt('biz1', 1000)).toEqual(['3']);
  });

  it('tells when a version first became ACTIVATED', () => {
    const timeline = rollout();
    expect(timeline.firstActivatedAt('biz1', '2')).toBe(200);
    expect(timeline.firstActivatedAt('biz1', '9')).toBeUndefined();
  });
});

describe('Timeline intervals', () => {
  it('finds no gap across a switch done new-first', () => {
    const timeline = rollout();
    expect(timeline.activationGaps('biz1', 100, 299)).toEqual([]);
    expect(timeline.alwaysActivated('biz1', 100, 299)).toBe(true);
  });

  it('finds the gap of an uninstall before the next install', () => {
    const timeline = rollout();
    expect(timeline.activationGaps('biz1', 100, 1000)).toEqual([{ from: 300, to: 400 }]);
    expect(timeline.alwaysActivated('biz1', 100, 1000)).toBe(false);
  });

  it('opens a gap at the window start when nothing is active then, and leaves a gap open at its end', () => {
    const timeline = rollout();
    expect(timeline.activationGaps('biz1', 0, 150)).toEqual([{ from: 0, to: 100 }]);
    expect(timeline.activationGaps('biz1', 310, 350)).toEqual([{ from: 310, to: 350 }]);
    expect(timeline.activationGaps('biz1', 250, 350)).toEqual([{ from: 300, to: 350 }]);
    expect(timeline.activationGaps('never', 0, 10)).toEqual([{ from: 0, to: 10 }]);
  });

  it('counts a hand-over within one millisecond as a gap when the old version went first', () => {
    const timeline = new Timeline();
    timeline.recordChanges([
      change(10, '1', undefined, 'ACTIVATED'),
      change(20, '1', 'ACTIVATED', undefined),
      change(20, '2', undefined, 'ACTIVATED'),
    ]);
    expect(timeline.activationGaps('biz1', 0, 30)).toEqual([
      { from: 0, to: 10 },
      { from: 20, to: 20 },
    ]);
    expect(timeline.alwaysActivated('biz1', 10, 30)).toBe(false);
  });

  it('ignores other biz names', () => {
    expect(rollout().alwaysActivated('other', 150, 1000)).toBe(true);
  });
});

describe('Timeline records', () => {
  it('keeps every kind of entry in order and filters them', () => {
    const timeline = new Timeline();
    timeline.record({ type: 'lifecycle', at: 1, event: 'started', identity: 'b1' });
    timeline.record({
      type: 'received',
      at: 2,
      topic: 'koupleless_dev/b1/queryAllBiz',
      kind: 'queryAllBiz',
      payload: '{}',
    });
    timeline.record({
      type: 'published',
      at: 3,
      topic: 'koupleless_dev/b1/base/simpleBiz',
      kind: 'simpleBiz',
      payload: '[]',
    });
    timeline.record({
      type: 'published',
      at: 4,
      topic: 'koupleless_dev/b1/base/heart',
      kind: 'heart',
      payload: '{}',
    });
    timeline.recordChanges([change(5, '1', undefined, 'ACTIVATED')]);
    expect(timeline.entries().map((entry) => entry.type)).toEqual([
      'lifecycle',
      'received',
      'published',
      'published',
      'biz',
    ]);
    expect(timeline.published('heart').map((entry) => entry.at)).toEqual([4]);
    expect(timeline.published()).toHaveLength(2);
    expect(timeline.received('queryAllBiz')).toHaveLength(1);
    expect(timeline.received('installBiz')).toEqual([]);
    expect(timeline.lifecycle('started')).toHaveLength(1);
    expect(timeline.bizChanges()).toEqual([{ type: 'biz', ...change(5, '1', undefined, 'ACTIVATED') }]);
  });
});
