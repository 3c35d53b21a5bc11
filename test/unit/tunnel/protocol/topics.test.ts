import { describe, expect, it } from 'vitest';
import {
  ALL_ENVS_HEARTBEAT_SUBSCRIPTION,
  MAX_BASE_ID_LENGTH,
  TOPIC_SUFFIXES,
  baseIdProblem,
  baseSubscriptions,
  buildTopic,
  controllerSubscriptions,
  parseTopic,
  type TopicKind,
} from '../../../../core/tunnel/protocol/topics.ts';

/** koupleless-protocol.md §1.2, env dev, base 10.244.0.12. */
const TOPIC_TABLE: readonly (readonly [string, TopicKind, string])[] = [
  ['T1', 'heart', 'koupleless_dev/10.244.0.12/base/heart'],
  ['T2', 'queryBaseline', 'koupleless_dev/10.244.0.12/base/queryBaseline'],
  ['T3', 'baseline', 'koupleless_dev/10.244.0.12/base/baseline'],
  ['T4', 'batchInstallBizResponse', 'koupleless_dev/10.244.0.12/base/batchInstallBizResponse'],
  ['T5', 'healthQuery', 'koupleless_dev/10.244.0.12/health'],
  ['T6', 'health', 'koupleless_dev/10.244.0.12/base/health'],
  ['T7', 'queryAllBiz', 'koupleless_dev/10.244.0.12/queryAllBiz'],
  ['T8', 'simpleBiz', 'koupleless_dev/10.244.0.12/base/simpleBiz'],
  ["T8'", 'biz', 'koupleless_dev/10.244.0.12/base/biz'],
  ['T9', 'installBiz', 'koupleless_dev/10.244.0.12/installBiz'],
  ['T10', 'uninstallBiz', 'koupleless_dev/10.244.0.12/uninstallBiz'],
  ['T11', 'bizOperation', 'koupleless_dev/10.244.0.12/base/bizOperation'],
];

describe('buildTopic', () => {
  it('covers every topic of the protocol table', () => {
    expect(TOPIC_TABLE.map(([, kind]) => kind).sort()).toEqual(Object.keys(TOPIC_SUFFIXES).sort());
  });

  it.each(TOPIC_TABLE)('%s %s → %s', (_row, kind, topic) => {
    expect(buildTopic('dev', '10.244.0.12', kind)).toBe(topic);
  });

  it.each([
    ['', 'empty'],
    ['a/b', 'contains-slash'],
    ['a+b', 'contains-wildcard'],
    ['#', 'contains-wildcard'],
    ['x'.repeat(MAX_BASE_ID_LENGTH + 1), 'too-long'],
  ])('refuses base id %j (%s)', (baseId, problem) => {
    expect(baseIdProblem(baseId)).toBe(problem);
    expect(() => buildTopic('dev', baseId, 'heart')).toThrow(RangeError);
  });

  it('accepts ids as real bases report them', () => {
    for (const id of [
      '10.244.0.12',
      'unknown-ab12c',
      '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      'x'.repeat(MAX_BASE_ID_LENGTH),
    ]) {
      expect(baseIdProblem(id)).toBeUndefined();
    }
  });

  it('refuses an env that is not part of one topic level', () => {
    expect(() => buildTopic('', 'id', 'heart')).toThrow(RangeError);
    expect(() => buildTopic('a/b', 'id', 'heart')).toThrow(RangeError);
  });
});

describe('parseTopic', () => {
  it.each(TOPIC_TABLE)('%s parses back to %s', (_row, kind, topic) => {
    expect(parseTopic(topic)).toEqual({ ok: true, env: 'dev', baseId: '10.244.0.12', kind });
  });

  it('reads the 3-level baseline form arklet also accepts', () => {
    expect(parseTopic('koupleless_dev/b1/baseline')).toEqual({
      ok: true,
      env: 'dev',
      baseId: 'b1',
      kind: 'baseline',
    });
  });

  it('keeps env and id verbatim', () => {
    expect(parseTopic('koupleless_Default_2/Base.One/base/heart')).toEqual({
      ok: true,
      env: 'Default_2',
      baseId: 'Base.One',
      kind: 'heart',
    });
  });

  it.each([
    ['other/10.244.0.12/base/heart', 'wrong-prefix'],
    ['koupleless/10.244.0.12/base/heart', 'wrong-prefix'],
    ['koupleless_/10.244.0.12/base/heart', 'wrong-prefix'],
    ['koupleless_+/10.244.0.12/base/heart', 'wrong-prefix'],
    ['', 'wrong-prefix'],
    ['koupleless_dev//base/heart', 'invalid-base-id'],
    ['koupleless_dev/+/base/heart', 'invalid-base-id'],
    ['koupleless_dev/#/base/heart', 'invalid-base-id'],
    [`koupleless_dev/${'x'.repeat(MAX_BASE_ID_LENGTH + 1)}/base/heart`, 'invalid-base-id'],
    ['koupleless_dev/10.244.0.12', 'unknown-kind'],
    ['koupleless_dev/10.244.0.12/base/unknown', 'unknown-kind'],
    ['koupleless_dev/10.244.0.12/switchBiz', 'unknown-kind'],
    ['koupleless_dev/10.244.0.12/base/heart/extra', 'unknown-kind'],
  ])('rejects %j as %s', (topic, reason) => {
    const parsed = parseTopic(topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toBe(reason);
      expect(parsed.detail).not.toBe('');
    }
  });
});

describe('subscriptions', () => {
  it('gives a controller every base → controller kind of its env, for all bases', () => {
    expect(controllerSubscriptions('dev')).toEqual([
      'koupleless_dev/+/base/heart',
      'koupleless_dev/+/base/queryBaseline',
      'koupleless_dev/+/base/health',
      'koupleless_dev/+/base/simpleBiz',
      'koupleless_dev/+/base/biz',
      'koupleless_dev/+/base/bizOperation',
      'koupleless_dev/+/base/batchInstallBizResponse',
    ]);
    expect(() => controllerSubscriptions('a+b')).toThrow(RangeError);
  });

  it('gives a base its command level and the 4-level baseline topic', () => {
    expect(baseSubscriptions('dev', 'b1')).toEqual([
      'koupleless_dev/b1/+',
      'koupleless_dev/b1/base/baseline',
    ]);
  });

  it('has a filter for heartbeats of every env', () => {
    expect(ALL_ENVS_HEARTBEAT_SUBSCRIPTION).toBe('+/+/base/heart');
  });
});
