import { describe, expect, it } from 'vitest';
import {
  ANNOTATIONS,
  resolveStrategy,
  unbatchedReason,
  type ConfigStrategy,
} from '../../../core/rollout/strategy.ts';

const config: ConfigStrategy = {
  batchCount: 3,
  beta: true,
  needConfirm: 'each-batch',
  graySeconds: 30,
  maxUnavailable: '30%',
  undo: 'fast',
  batchFirstInstall: false,
  bizDeactivateBatching: false,
};
const bare: ConfigStrategy = { undo: 'fast', batchFirstInstall: false, bizDeactivateBatching: false };

describe('resolveStrategy: precedence ModuleRollout spec > Deployment annotation > config file > default', () => {
  it('takes the defaults when nothing is said: one batch, no beta, no confirmation, no gray time, no budget', () => {
    expect(resolveStrategy(bare, undefined, undefined)).toEqual({
      strategy: {
        batchCount: 1,
        batchSizes: undefined,
        beta: false,
        needConfirm: false,
        graySeconds: 0,
        maxUnavailable: undefined,
        undo: 'fast',
        batchFirstInstall: false,
        bizDeactivateBatching: false,
      },
      problems: [],
    });
  });

  it('takes the config file over the defaults', () => {
    expect(resolveStrategy(config, {}, undefined).strategy).toMatchObject({
      batchCount: 3,
      beta: true,
      needConfirm: 'each-batch',
      graySeconds: 30,
      maxUnavailable: '30%',
    });
  });

  it('takes annotations over the config file', () => {
    const { strategy, problems } = resolveStrategy(
      config,
      {
        [ANNOTATIONS.batchCount]: '5',
        [ANNOTATIONS.batchSizes]: '1, 50%, 100%',
        [ANNOTATIONS.beta]: 'false',
        [ANNOTATIONS.needConfirm]: 'beta',
        [ANNOTATIONS.graySeconds]: '0',
        [ANNOTATIONS.maxUnavailable]: '2',
        [ANNOTATIONS.undo]: 'batched',
      },
      undefined,
    );
    expect(problems).toEqual([]);
    expect(strategy).toMatchObject({
      batchCount: 5,
      batchSizes: [1, '50%', '100%'],
      beta: false,
      needConfirm: 'beta',
      graySeconds: 0,
      maxUnavailable: 2,
      undo: 'batched',
    });
  });

  it('takes the ModuleRollout spec over annotations; "false" switches confirmations off', () => {
    const { strategy } = resolveStrategy(
      config,
      { [ANNOTATIONS.batchCount]: '5', [ANNOTATIONS.needConfirm]: 'each-batch' },
      { batchCount: 2, needConfirm: 'false', graySeconds: 7, maxUnavailable: '10%', beta: false },
    );
    expect(strategy).toMatchObject({
      batchCount: 2,
      needConfirm: false,
      graySeconds: 7,
      maxUnavailable: '10%',
      beta: false,
    });
  });

  it.each([
    [ANNOTATIONS.batchCount, '0', 'a whole number ≥ 1'],
    [ANNOTATIONS.batchCount, 'three', 'a whole number ≥ 1'],
    [ANNOTATIONS.batchSizes, '1,half', 'a list of counts or percentages such as "1,50%,100%"'],
    [ANNOTATIONS.beta, 'yes', '"true" or "false"'],
    [ANNOTATIONS.needConfirm, 'always', '"each-batch", "beta" or "false"'],
    [ANNOTATIONS.graySeconds, '-5', 'a number of seconds ≥ 0'],
    [ANNOTATIONS.maxUnavailable, 'many', 'a count or a percentage'],
    [ANNOTATIONS.undo, 'slow', '"fast" or "batched"'],
  ])('reports annotation %s: "%s" and ignores it (the config file decides)', (key, value, expected) => {
    const { strategy, problems } = resolveStrategy(config, { [key]: value }, undefined);
    expect(problems).toEqual([`annotation ${key}: "${value}" is not ${expected}; ignored`]);
    expect(strategy).toEqual(resolveStrategy(config, {}, undefined).strategy);
  });
});

describe('unbatchedReason', () => {
  const fast = { batchFirstInstall: false, undo: 'fast' as const };
  const batched = { batchFirstInstall: true, undo: 'batched' as const };

  it('lets first installs, fast undos and Recreate Deployments through unbatched', () => {
    expect(unbatchedReason('first-install', fast, 'RollingUpdate')).toBe('first-install');
    expect(unbatchedReason('undo', fast, 'RollingUpdate')).toBe('fast-undo');
    expect(unbatchedReason('update', fast, 'Recreate')).toBe('recreate');
  });

  it('batches updates, and first installs and undos when the config asks for it', () => {
    expect(unbatchedReason('update', fast, 'RollingUpdate')).toBeUndefined();
    expect(unbatchedReason('update', fast, undefined)).toBeUndefined();
    expect(unbatchedReason('first-install', batched, 'RollingUpdate')).toBeUndefined();
    expect(unbatchedReason('undo', batched, 'RollingUpdate')).toBeUndefined();
  });

  it('never batches Recreate, even when first installs and undos are batched', () => {
    expect(unbatchedReason('first-install', batched, 'Recreate')).toBe('recreate');
    expect(unbatchedReason('undo', batched, 'Recreate')).toBe('recreate');
  });
});
