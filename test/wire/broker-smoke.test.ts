/**
 * The same smoke test on both real brokers: a simulated base comes up, the controller side sees it on the
 * wildcard subscriptions, installs a module, reads the biz list, and sees the base vanish and come back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKERS } from '../support/brokers.ts';
import { bizModel, fromBase, SimHarness } from '../support/sim-harness.ts';

describe.each(BROKERS)('smoke on $name', (kind) => {
  let harness: SimHarness;

  beforeAll(async () => {
    harness = await SimHarness.start(kind);
  });

  afterAll(async () => {
    await harness.close();
  });

  it('heartbeats, install, biz list, crash and restart', async () => {
    const base = harness.base({ heartbeatIntervalMs: 200 });
    const witness = harness.base({ heartbeatIntervalMs: 200 });
    const id = base.identity;
    await Promise.all([base.start(), witness.start()]);

    // online: one baseline query, then heartbeats, on the controller's wildcard subscriptions
    expect((await harness.next(id, 'queryBaseline', 0)).data).toMatchObject({ identity: id });
    await harness.heartbeats(id, 2);

    const operation = await harness.install(id, bizModel('biz1', '0.0.1'));
    expect(operation).toMatchObject({
      command: 'installBiz',
      bizName: 'biz1',
      response: { code: 'SUCCESS' },
    });

    expect(await harness.queryAllBiz(id)).toEqual([
      expect.objectContaining({ name: 'biz1', version: '0.0.1', state: 'activated' }),
    ]);

    // crash: nothing more from the base, while the witness keeps beating
    const crashedAt = Date.now();
    await base.crash();
    const afterCrash = harness.controller.mark();
    await harness.heartbeats(witness.identity, 3);
    const sinceCrash = harness.controller
      .messages(() => true, afterCrash)
      .map((message) => fromBase(message, id))
      .filter((message) => message !== undefined && message.publishTimestamp >= crashedAt);
    expect(sinceCrash).toEqual([]);

    // restart: a fresh process asks for its baseline again, then beats
    const beforeRestart = harness.controller.mark();
    await base.restart();
    await harness.next(id, 'queryBaseline', beforeRestart);
    await harness.next(id, 'heart', beforeRestart);
  });
});
