import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivationMode } from '../../core/sim/sim-config.ts';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { BetaFirstPlugin } from '../../plugins/beta-first-plugin.ts';
import { GrayTimePlugin } from '../../plugins/gray-time-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import { kubectl } from '../support/kube.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';

type Moment = 'awaiting confirmation' | 'in gray time' | 'inside a batch';

const CASES: readonly { moment: Moment; mode: ActivationMode }[] = (
  ['awaiting confirmation', 'in gray time', 'inside a batch'] as const
).flatMap((moment) => (['multi-version', 'switch'] as const).map((mode) => ({ moment, mode })));

/**
 * `kubectl rollout undo` in the middle of a batched rollout (5 bases, batches 1, 3, 5, a confirmation before
 * each): the old template becomes the current version again and rolls back fast (the default), whatever the
 * rollout was doing.
 */
describe.each(CASES)('kubectl rollout undo $moment, on $mode bases', ({ moment, mode }) => {
  let world: RolloutWorld;

  beforeAll(async () => {
    world = await RolloutWorld.create({
      bases: 5,
      activationMode: mode,
      // Inside a batch: installs slow enough that batch 2 is still running when the undo comes.
      installLatencyMs: moment === 'inside a batch' ? 3_000 : 300,
      plugins: [
        new BatchesPlugin({ batchCount: 3 }),
        new BetaFirstPlugin({}),
        new PauseAndConfirmPlugin({ after: 'each-batch' }),
        new GrayTimePlugin({ seconds: moment === 'in gray time' ? 120 : 0 }),
      ],
    });
  });
  afterAll(async () => {
    await world.close();
  });

  it('returns every base to 0.0.1 with none ever without biz1, and no stale confirmation applies afterwards', async () => {
    const from = Date.now();
    await world.release('0.0.2');
    if (moment === 'inside a batch') {
      await world.holding(2, 2, 'AwaitingConfirmation', 120_000);
      await world.confirm(2, 2);
      await world.waitRollout(
        2,
        (r) => r.status?.currentBatch === 2 && !r.status.batches?.[1]?.completedAt,
        'batch 2 running',
      );
    } else {
      await world.holding(2, 2, moment === 'in gray time' ? 'GrayTime' : 'AwaitingConfirmation');
    }
    expect(world.switched('0.0.2')).toBeGreaterThanOrEqual(1);

    await kubectl(['rollout', 'undo', '-n', world.namespace, 'deployment/biz1']);
    await world.completed(3);
    const undo = await world.rollout(3);
    expect(undo?.status).toMatchObject({ kind: 'undo', plan: [5] });
    await world.settled('0.0.1', 5);
    await waitFor(() => world.switched('0.0.1') === 5 && world.switched('0.0.2') === 0, {
      description: 'every base back on 0.0.1 only',
      timeoutMs: 60_000,
    });
    world.expectNoGaps(from);
    await world.waitRollout(2, (r) => r.status?.phase === 'Superseded', 'biz1-r2 Superseded');

    // A confirmation given to the rolled-back rollout's object now, and the next release: it waits for its own.
    await world.confirm(2, 3);
    const undoneAt = Date.now();
    await world.release('0.0.3');
    const next = await world.holding(4, 2, moment === 'in gray time' ? 'GrayTime' : 'AwaitingConfirmation');
    expect(next.spec.confirmedBatch ?? 0).toBe(0);
    expect(world.switched('0.0.3')).toBe(1);
    expect(world.switched('0.0.2')).toBe(0);
    const relapsed = world.bases.flatMap((b) =>
      b.timeline
        .bizChanges()
        .filter((c) => c.bizVersion === '0.0.2' && c.to === 'ACTIVATED' && c.at > undoneAt),
    );
    expect(relapsed).toEqual([]);
  });
});
