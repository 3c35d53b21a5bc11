import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_RECORDS,
  RECORD_ANNOTATIONS,
  currentRecords,
  readRecords,
  recordAnnotations,
  sameRecords,
  type NodeRecords,
  type Retention,
} from '../../../core/module/node-records.ts';

const APP = { kind: 'Deployment', namespace: 'ns', name: 'app', uid: 'uid-app' };

function retention(bizVersion: string, reason: Retention['reason'] = 'rollout'): Retention {
  return {
    bizName: 'biz1',
    bizVersion,
    bizUrl: `https://repo.example/biz1-${bizVersion}.jar`,
    reason,
    workload: APP,
    podUid: 'pod-1',
    since: 1_800_000_000_000,
  };
}

const RECORDS: NodeRecords = {
  ledger: { 'biz1:1.0.0': 1_800_000_000_000, 'biz2:2.0.0': 1_800_000_001_000 },
  retentions: [retention('0.9.0'), retention('1.0.0', 'disruption')],
  mode: 'switches',
};

function nodeWith(annotations: Record<string, string> | undefined): V1Node {
  return { metadata: { name: 'virtual-node-base-1', ...(annotations ? { annotations } : {}) } };
}

describe('recordAnnotations and readRecords', () => {
  it('round-trip ledger, retentions and mode through the node annotations', () => {
    expect(readRecords(nodeWith(recordAnnotations(RECORDS)))).toEqual(RECORDS);
  });

  it('write the three annotations kmc owns', () => {
    const annotations = recordAnnotations(RECORDS);
    expect(Object.keys(annotations).sort()).toEqual(
      [RECORD_ANNOTATIONS.ledger, RECORD_ANNOTATIONS.retentions, RECORD_ANNOTATIONS.mode].sort(),
    );
    expect(annotations[RECORD_ANNOTATIONS.mode]).toBe('switches');
  });

  it('write the ledger with sorted keys, so equal ledgers give equal annotations', () => {
    const annotations = recordAnnotations({ ...EMPTY_RECORDS, ledger: { 'b:1': 2, 'a:1': 1 } });
    expect(annotations[RECORD_ANNOTATIONS.ledger]).toBe('{"a:1":1,"b:1":2}');
  });

  it('read a node without annotations, and no node at all, as empty records', () => {
    expect(readRecords(nodeWith(undefined))).toEqual(EMPTY_RECORDS);
    expect(readRecords(undefined)).toEqual(EMPTY_RECORDS);
    expect(EMPTY_RECORDS).toEqual({ ledger: {}, retentions: [], mode: 'unknown' });
  });

  it.each([
    ['not JSON', '{oops'],
    ['an array', '["biz1:1.0.0"]'],
    ['a number', '42'],
    ['null', 'null'],
    ['a ledger with a non-number time', '{"biz1:1.0.0":"yesterday"}'],
  ])('fall back to an empty ledger when the ledger annotation is %s, without throwing', (_what, text) => {
    const records = readRecords(
      nodeWith({ ...recordAnnotations(RECORDS), [RECORD_ANNOTATIONS.ledger]: text }),
    );
    expect(records.ledger).toEqual({});
    expect(records.retentions).toEqual(RECORDS.retentions);
  });

  it.each([
    ['not JSON', '[{'],
    ['an object', '{"bizName":"biz1"}'],
    ['a list with a non-object', '[1]'],
    ['a list with an item missing bizVersion', '[{"bizName":"biz1","workload":{}}]'],
    ['a list with an item missing its workload', '[{"bizName":"biz1","bizVersion":"1"}]'],
    ['a list with an item whose workload is null', '[{"bizName":"biz1","bizVersion":"1","workload":null}]'],
  ])('fall back to no retentions when the retentions annotation is %s, without throwing', (_what, text) => {
    const records = readRecords(
      nodeWith({ ...recordAnnotations(RECORDS), [RECORD_ANNOTATIONS.retentions]: text }),
    );
    expect(records.retentions).toEqual([]);
    expect(records.ledger).toEqual(RECORDS.ledger);
  });

  it.each(['keeps-both', 'switches', 'installs-deactivated', 'unknown'] as const)('read mode %s', (mode) => {
    expect(readRecords(nodeWith({ [RECORD_ANNOTATIONS.mode]: mode })).mode).toBe(mode);
  });

  it('read an unknown mode as unknown', () => {
    expect(readRecords(nodeWith({ [RECORD_ANNOTATIONS.mode]: 'flips' })).mode).toBe('unknown');
  });
});

describe('sameRecords', () => {
  it('is true for equal records whatever the ledger key order', () => {
    const reordered: NodeRecords = {
      ...RECORDS,
      ledger: { 'biz2:2.0.0': 1_800_000_001_000, 'biz1:1.0.0': 1_800_000_000_000 },
    };
    expect(sameRecords(RECORDS, reordered)).toBe(true);
    expect(sameRecords(EMPTY_RECORDS, { ledger: {}, retentions: [], mode: 'unknown' })).toBe(true);
  });

  it('is false when a ledger time, a ledger key, a retention or the mode differs', () => {
    expect(sameRecords(RECORDS, { ...RECORDS, ledger: { ...RECORDS.ledger, 'biz1:1.0.0': 1 } })).toBe(false);
    expect(sameRecords(RECORDS, { ...RECORDS, ledger: { 'biz1:1.0.0': 1_800_000_000_000 } })).toBe(false);
    expect(sameRecords(RECORDS, { ...RECORDS, retentions: [retention('0.9.0')] })).toBe(false);
    expect(sameRecords(RECORDS, { ...RECORDS, mode: 'keeps-both' })).toBe(false);
  });
});

describe('currentRecords', () => {
  const cachedAt = (resourceVersion: string, records: NodeRecords): V1Node => ({
    metadata: { name: 'virtual-node-base-1', resourceVersion, annotations: recordAnnotations(records) },
  });
  const older: NodeRecords = { ...RECORDS, ledger: { 'biz1:1.0.0': 1_800_000_000_000 } };

  it('plans from the last write while the cache is older than it, so a ledger entry just added is not lost', () => {
    const result = currentRecords(cachedAt('41', older), { resourceVersion: 42, records: RECORDS });
    expect(result).toEqual({ records: RECORDS, caughtUp: false });
  });

  it('plans from the cache once it has caught up with the write, or gone past it', () => {
    expect(currentRecords(cachedAt('42', RECORDS), { resourceVersion: 42, records: RECORDS })).toEqual({
      records: RECORDS,
      caughtUp: true,
    });
    // A later write by someone else (or a later status heartbeat) is what the cache shows.
    expect(currentRecords(cachedAt('50', older), { resourceVersion: 42, records: RECORDS })).toEqual({
      records: older,
      caughtUp: true,
    });
  });

  it('plans from the cache when nothing was written, and from nothing when the node is gone', () => {
    expect(currentRecords(cachedAt('7', older), undefined)).toEqual({ records: older, caughtUp: true });
    expect(currentRecords(undefined, { resourceVersion: 42, records: RECORDS })).toEqual({
      records: EMPTY_RECORDS,
      caughtUp: true,
    });
  });
});
