/**
 * Install behaviour of a simulated base on a real broker: latency, failures, uninstall answers, baseline
 * batch installs, commands it ignores, and what its timeline records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AEDES } from '../support/brokers.ts';
import { bizModel, bizStates, ENV, SimHarness } from '../support/sim-harness.ts';
import { waitFor } from '../support/wait-for.ts';

let harness: SimHarness;

beforeAll(async () => {
  harness = await SimHarness.start(AEDES);
});

afterAll(async () => {
  await harness.close();
});

describe('installs', () => {
  it('take their latency: RESOLVED meanwhile, ACTIVATED after, cost reported', async () => {
    const base = await harness.startedBase({ installLatencyMs: 400 });
    const since = harness.controller.mark();
    await harness.controller.command(ENV, base.identity, 'installBiz', bizModel('biz1', '1'));
    // the base answers queries while the install runs
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({ 'biz1:1': 'resolved' });
    const operation = await harness.next(base.identity, 'bizOperation', since);
    expect(operation.data.response.data?.message).toMatch(/^Install Biz: biz1:1 success, cost: \d+ ms/);
    const cost = Number(/cost: (\d+) ms/.exec(operation.data.response.data?.message ?? '')?.[1]);
    expect(cost).toBeGreaterThanOrEqual(400);

    const received = base.timeline.received('installBiz')[0]?.at;
    const activated = base.timeline.firstActivatedAt('biz1', '1');
    if (received === undefined || activated === undefined) throw new Error('install not recorded');
    expect(activated - received).toBeGreaterThanOrEqual(400);
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({ 'biz1:1': 'activated' });
  });

  it('fail for chosen modules: FAILED with the reason, the biz left BROKEN', async () => {
    const base = await harness.startedBase({
      failingInstalls: [{ bizName: 'biz1', bizVersion: '2', message: 'Bean creation failed' }],
    });
    expect((await harness.install(base.identity, bizModel('biz1', '1'))).response.code).toBe('SUCCESS');
    const failed = await harness.install(base.identity, bizModel('biz1', '2'));
    expect(failed).toEqual({
      bizName: 'biz1',
      bizVersion: '2',
      command: 'installBiz',
      response: {
        code: 'FAILED',
        data: { code: 'FAILED', message: 'Bean creation failed' },
        message: 'Bean creation failed',
      },
    });
    const list = await harness.queryAllBiz(base.identity);
    expect(bizStates(list)).toEqual({ 'biz1:1': 'activated', 'biz1:2': 'broken' });
    expect(list.find((info) => info.version === '2')?.latestStateRecord).toMatchObject({
      state: 'BROKEN',
      reason: 'INSTALL_FAILED',
      message: 'Bean creation failed',
    });
  });

  it('answer REPEAT_BIZ and NOT_FOUND_BIZ as real bases do', async () => {
    const base = await harness.startedBase();
    await harness.install(base.identity, bizModel('biz1', '1'));
    expect((await harness.install(base.identity, bizModel('biz1', '1'))).response.data).toMatchObject({
      code: 'REPEAT_BIZ',
      message: 'Biz: biz1:1 has been installed or registered.',
    });
    expect((await harness.uninstall(base.identity, bizModel('biz1', '1'))).response).toMatchObject({
      code: 'SUCCESS',
      data: { code: 'SUCCESS', message: 'Uninstall biz: biz1:1 success.' },
    });
    expect((await harness.uninstall(base.identity, bizModel('biz1', '1'))).response).toEqual({
      code: 'FAILED',
      data: { code: 'NOT_FOUND_BIZ', message: 'Uninstall biz: biz1:1 not found.' },
      message: 'uninstall biz not success!',
    });
  });

  it('batch-install a baseline and answer once for all items', async () => {
    const base = await harness.startedBase({
      staticModules: [{ bizName: 'merged', bizVersion: '1.0', bizUrl: 'file:///merged.jar' }],
      installLatencyMs: ({ bizName }) => (bizName === 'slow' ? 300 : 50),
      failingInstalls: [{ bizName: 'bad', message: 'no such class' }],
    });
    const since = harness.controller.mark();
    await harness.controller.command(ENV, base.identity, 'baseline', [
      bizModel('merged', '1.0'),
      bizModel('slow', '1'),
      bizModel('bad', '1'),
      bizModel('quick', '1'),
    ]);
    const reply = await harness.next(base.identity, 'batchInstallBizResponse', since);
    expect(harness.all(base.identity, 'batchInstallBizResponse', since)).toHaveLength(1);
    expect(reply.data.command).toBe('batchInstallBiz');
    expect(reply.data.response.code).toBe('FAILED');
    const entries = reply.data.response.data?.bizUrlToResponse ?? {};
    expect(Object.fromEntries(Object.entries(entries).map(([url, entry]) => [url, entry.code]))).toEqual({
      'https://example.invalid/merged-1.0-ark-biz.jar': 'REPEAT_BIZ',
      'https://example.invalid/slow-1-ark-biz.jar': 'SUCCESS',
      'https://example.invalid/bad-1-ark-biz.jar': 'FAILED',
      'https://example.invalid/quick-1-ark-biz.jar': 'SUCCESS',
    });
    expect(entries['https://example.invalid/bad-1-ark-biz.jar']?.bizInfos).toBeUndefined();
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({
      'merged:1.0': 'activated',
      'slow:1': 'activated',
      'bad:1': 'broken',
      'quick:1': 'activated',
    });
  });
});

describe('commands the base does not take', () => {
  it('ignores unsupported commands and unreadable payloads, and goes on answering', async () => {
    const base = await harness.startedBase();
    const since = harness.controller.mark();
    await harness.controller.publish(
      `koupleless_${ENV}/${base.identity}/switchBiz`,
      JSON.stringify(bizModel('biz1', '1')),
    );
    await harness.controller.publish(`koupleless_${ENV}/${base.identity}/installBiz`, '{');
    await harness.controller.publish(`koupleless_${ENV}/${base.identity}/installBiz`, '[]');
    // commands are handled in order: once this is answered, the three above were handled
    expect(await harness.queryAllBiz(base.identity)).toEqual([]);
    expect(harness.all(base.identity, 'bizOperation', since)).toEqual([]);
    expect(base.timeline.received().map((entry) => entry.kind)).toEqual([
      undefined,
      'installBiz',
      'installBiz',
      'queryAllBiz',
    ]);
  });
});

describe('timeline', () => {
  it('records commands received and messages published, with timestamps, in order', async () => {
    const before = Date.now();
    const base = await harness.startedBase();
    await harness.install(base.identity, bizModel('biz1', '1'));
    await harness.controller.command(ENV, base.identity, 'healthQuery', {});
    await waitFor(() => base.timeline.published('health').length === 1, {
      description: 'the health reply to be recorded',
    });

    const entries = base.timeline.entries();
    expect(
      entries.every(
        (entry, index) => entry.at >= before && (index === 0 || entry.at >= (entries[index - 1]?.at ?? 0)),
      ),
    ).toBe(true);
    expect(base.timeline.published().map((entry) => entry.kind)).toEqual(
      expect.arrayContaining(['queryBaseline', 'heart', 'bizOperation', 'health']),
    );
    const install = base.timeline.received('installBiz')[0];
    const reply = base.timeline.published('bizOperation')[0];
    expect(install?.topic).toBe(`koupleless_${ENV}/${base.identity}/installBiz`);
    expect(reply?.topic).toBe(`koupleless_${ENV}/${base.identity}/base/bizOperation`);
    expect(JSON.parse(reply?.payload ?? '{}')).toMatchObject({
      data: { command: 'installBiz' },
      publishTimestamp: reply?.at,
    });
    expect((install?.at ?? Infinity) <= (reply?.at ?? 0)).toBe(true);
  });
});
