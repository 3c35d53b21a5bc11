/**
 * Process lifecycle of a simulated base on a real broker: crash, clean stop, restart (same or new identity),
 * reconnects, heartbeat pause, statically merged modules.
 */
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AEDES, MOSQUITTO } from '../support/brokers.ts';
import { bizModel, bizStates, SimHarness } from '../support/sim-harness.ts';
import { uniqueId } from '../support/unique-id.ts';
import { waitFor } from '../support/wait-for.ts';

const FAST_BEAT = { heartbeatIntervalMs: 200 };

describe('crash and stop, as mosquitto sees them', () => {
  let harness: SimHarness;

  beforeAll(async () => {
    harness = await SimHarness.start(MOSQUITTO);
  });

  afterAll(async () => {
    await harness.close();
  });

  async function brokerLog(): Promise<string> {
    if (harness.broker.readLog === undefined) throw new Error('mosquitto keeps a log');
    return harness.broker.readLog();
  }

  it('crash drops the socket without DISCONNECT and takes every module with it', async () => {
    const base = await harness.startedBase(FAST_BEAT);
    await harness.install(base.identity, bizModel('biz1', '1'));
    const crashedAt = Date.now();
    await base.crash();

    expect(base.running).toBe(false);
    expect(base.modules()).toEqual([]);
    expect(base.timeline.lifecycle('crashed')).toHaveLength(1);
    expect(base.timeline.activatedAt(Date.now())).toEqual([]);
    expect(base.timeline.bizChanges().at(-1)).toMatchObject({ bizName: 'biz1', to: undefined });
    expect(base.timeline.published().filter((entry) => entry.at >= crashedAt)).toEqual([]);

    const log = await waitFor(
      async () => {
        const text = await brokerLog();
        return text.includes(`Client ${base.clientId} closed its connection.`) ? text : undefined;
      },
      { description: 'mosquitto to notice the dropped connection' },
    );
    expect(log).not.toContain(`Received DISCONNECT from ${base.clientId}`);
  });

  it('stop disconnects cleanly', async () => {
    const base = await harness.startedBase(FAST_BEAT);
    await base.stop();
    expect(base.running).toBe(false);
    expect(base.timeline.lifecycle('stopped')).toHaveLength(1);
    await waitFor(async () => (await brokerLog()).includes(`Received DISCONNECT from ${base.clientId}`), {
      description: 'mosquitto to receive the DISCONNECT',
    });
  });
});

describe('restarts, reconnects and heartbeats', () => {
  let harness: SimHarness;

  beforeAll(async () => {
    harness = await SimHarness.start(AEDES);
  });

  afterAll(async () => {
    await harness.close();
  });

  it('restart: a fresh process asks for its baseline again, keeps static modules and loses installed ones', async () => {
    const base = await harness.startedBase({ staticModules: [{ bizName: 'merged', bizVersion: '1.0' }] });
    await harness.install(base.identity, bizModel('biz1', '1'));
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({
      'merged:1.0': 'activated',
      'biz1:1': 'activated',
    });

    const beforeRestart = harness.controller.mark();
    await base.restart();
    await harness.next(base.identity, 'queryBaseline', beforeRestart);
    expect(harness.all(base.identity, 'queryBaseline')).toHaveLength(2);
    expect(bizStates(await harness.queryAllBiz(base.identity))).toEqual({ 'merged:1.0': 'activated' });
    expect(base.timeline.lifecycle('started')).toHaveLength(2);
  });

  it('restart with a new identity: new topics and client id, the same hostname, the old identity silent', async () => {
    const base = await harness.startedBase({ ...FAST_BEAT, hostname: 'base-pod-a', localIP: '10.0.0.1' });
    const oldId = base.identity;
    const oldClientId = base.clientId;
    const newId = uniqueId('replacement');
    const restartedAt = Date.now();
    await base.restartWithNewIdentity({ identity: newId, localIP: '10.0.0.2' });

    expect(base.identity).toBe(newId);
    expect(base.clientId).not.toBe(oldClientId);
    expect((await harness.next(newId, 'queryBaseline', 0)).data).toMatchObject({ identity: newId });
    expect((await harness.next(newId, 'heart', 0)).data).toMatchObject({
      baseMetadata: { identity: newId },
      localHostName: 'base-pod-a',
      localIP: '10.0.0.2',
    });
    await harness.heartbeats(newId, 3);
    const fromOld = [...harness.all(oldId, 'heart'), ...harness.all(oldId, 'queryBaseline')];
    expect(fromOld.filter((message) => message.publishTimestamp >= restartedAt)).toEqual([]);
    expect(base.timeline.lifecycle().map((entry) => entry.identity)).toContain(oldId);
  });

  it('reconnects after losing the broker connection: subscribes again, but asks for no second baseline', async () => {
    const base = await harness.startedBase(FAST_BEAT);
    await harness.next(base.identity, 'queryBaseline', 0);
    // a second client with the same id makes the broker drop the base's connection
    const intruder = await connectAsync(harness.broker.url, { clientId: base.clientId, reconnectPeriod: 0 });
    await waitFor(() => base.timeline.lifecycle('connection-lost').length > 0, {
      description: 'the base to lose its connection',
    });
    await intruder.endAsync(true);
    await waitFor(() => base.timeline.lifecycle('connected').length === 2, {
      description: 'the base to reconnect',
    });

    await harness.install(base.identity, bizModel('biz1', '1'));
    await harness.heartbeats(base.identity, 2);
    expect(harness.all(base.identity, 'queryBaseline')).toHaveLength(1);
  });

  it('pauseHeartbeat stops heartbeats while commands are still answered', async () => {
    const base = await harness.startedBase(FAST_BEAT);
    const witness = await harness.startedBase(FAST_BEAT);
    await harness.heartbeats(base.identity, 1);
    const pausedAt = Date.now();
    base.pauseHeartbeat();
    await harness.heartbeats(witness.identity, 3);
    expect(harness.all(base.identity, 'heart').filter((beat) => beat.publishTimestamp >= pausedAt)).toEqual(
      [],
    );
    expect(await harness.queryAllBiz(base.identity)).toEqual([]);

    base.resumeHeartbeat();
    await harness.heartbeats(base.identity, 2);
    expect(base.timeline.lifecycle().map((entry) => entry.event)).toEqual(
      expect.arrayContaining(['heartbeat-paused', 'heartbeat-resumed']),
    );
  });

  it('resumeHeartbeat beats at once, not one interval later', async () => {
    const base = await harness.startedBase({ heartbeatIntervalMs: 600_000 });
    await harness.next(base.identity, 'heart', 0);
    base.pauseHeartbeat();
    const resumed = harness.controller.mark();
    base.resumeHeartbeat();
    await harness.next(base.identity, 'heart', resumed, 5_000);
  });

  it('statically merged modules are there from the start, never installed by a command', async () => {
    const base = await harness.startedBase({ staticModules: [{ bizName: 'merged', bizVersion: '1.0' }] });
    const list = await harness.queryAllBiz(base.identity);
    expect(bizStates(list)).toEqual({ 'merged:1.0': 'activated' });
    expect(list[0]?.latestStateRecord).toMatchObject({ state: 'ACTIVATED', reason: 'STARTED' });
    expect(base.timeline.received('installBiz')).toEqual([]);
    expect(base.modules()).toEqual([expect.objectContaining({ bizName: 'merged', origin: 'static' })]);
  });
});
