/**
 * The three SOFAArk activation modes of a simulated base, seen on the wire (simpleBiz, bizOperation) and in
 * its timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AEDES } from '../support/brokers.ts';
import { bizModel, bizStates, SimHarness } from '../support/sim-harness.ts';

let harness: SimHarness;

beforeAll(async () => {
  harness = await SimHarness.start(AEDES);
});

afterAll(async () => {
  await harness.close();
});

const V1 = bizModel('biz1', '0.0.1');
const V2 = bizModel('biz1', '0.0.2');

describe('activation modes', () => {
  it('multi-version: both versions stay ACTIVATED', async () => {
    const base = await harness.startedBase({ activationMode: 'multi-version' });
    await harness.install(base.identity, V1);
    await harness.install(base.identity, V2);
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({
      'biz1:0.0.1': 'activated',
      'biz1:0.0.2': 'activated',
    });
    expect(base.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.1', '0.0.2']);
  });

  it('switch: the new version takes over, the old one is DEACTIVATED (SWITCHED), with no gap', async () => {
    const base = await harness.startedBase({ activationMode: 'switch' });
    await harness.install(base.identity, V1);
    const installed = await harness.install(base.identity, V2);
    expect(installed.response.data?.bizInfos).toEqual([
      expect.objectContaining({ bizName: 'biz1', bizVersion: '0.0.2', bizState: 'ACTIVATED' }),
    ]);
    const list = await harness.queryAllBiz(base.identity);
    expect(bizStates(list)).toEqual({ 'biz1:0.0.1': 'deactivated', 'biz1:0.0.2': 'activated' });
    expect(list.find((info) => info.version === '0.0.1')?.latestStateRecord).toMatchObject({
      state: 'DEACTIVATED',
      reason: 'SWITCHED',
      message: null,
    });

    const first = base.timeline.firstActivatedAt('biz1', '0.0.1');
    const second = base.timeline.firstActivatedAt('biz1', '0.0.2');
    if (first === undefined || second === undefined)
      throw new Error('both versions should have been ACTIVATED');
    expect(base.timeline.alwaysActivated('biz1', first, Date.now())).toBe(true);
    expect(base.timeline.activatedVersionsAt('biz1', second)).toEqual(['0.0.2']);
  });

  it('install-deactivated: the new version stays DEACTIVATED while the old one runs', async () => {
    const base = await harness.startedBase({ activationMode: 'install-deactivated' });
    await harness.install(base.identity, V1);
    const installed = await harness.install(base.identity, V2);
    expect(installed.response).toMatchObject({ code: 'SUCCESS' });
    expect(installed.response.data?.bizInfos).toEqual([
      expect.objectContaining({ bizVersion: '0.0.2', bizState: 'DEACTIVATED' }),
    ]);
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({
      'biz1:0.0.1': 'activated',
      'biz1:0.0.2': 'deactivated',
    });
    expect(base.timeline.firstActivatedAt('biz1', '0.0.2')).toBeUndefined();
  });

  it('install-deactivated updated uninstall-first: the timeline shows the gap', async () => {
    const base = await harness.startedBase({ activationMode: 'install-deactivated' });
    await harness.install(base.identity, V1);
    const start = Date.now();
    await harness.uninstall(base.identity, V1);
    await harness.install(base.identity, V2);
    const gaps = base.timeline.activationGaps('biz1', start, Date.now());
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.to).toBe(base.timeline.firstActivatedAt('biz1', '0.0.2'));
    expect(base.timeline.alwaysActivated('biz1', start, Date.now())).toBe(false);
  });
});
