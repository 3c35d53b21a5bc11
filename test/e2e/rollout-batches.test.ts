import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KmcPlugin } from '../../core/plugin.ts';
import type { ActivationMode } from '../../core/sim/sim-config.ts';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { BetaFirstPlugin } from '../../plugins/beta-first-plugin.ts';
import { MaxUnavailablePlugin } from '../../plugins/max-unavailable-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import { heldOf, RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady, versionOf } from '../support/pods.ts';

interface Variant {
  readonly title: string;
  readonly mode: ActivationMode;
  readonly extra: readonly KmcPlugin[];
}

const VARIANTS: readonly Variant[] = [
  { title: 'multi-version bases', mode: 'multi-version', extra: [] },
  { title: 'switching bases', mode: 'switch', extra: [] },
  {
    title: 'multi-version bases with maxUnavailable 0',
    mode: 'multi-version',
    extra: [new MaxUnavailablePlugin({ maxUnavailable: 0 })],
  },
  { title: 'bases that install the new version deactivated', mode: 'install-deactivated', extra: [] },
];

/**
 * The docs' release strategy on 10 bases: batchCount 3 with beta (batches 1, 5, 4), a confirmation before each
 * batch, the example Deployment's 30 % / 30 % rolling update — on every kind of base.
 */
describe.each(VARIANTS)('batched rollout (batchCount 3, beta, confirm each batch) on $title', (variant) => {
  let world: RolloutWorld;
  const uninstallFirst = variant.mode === 'install-deactivated';

  beforeAll(async () => {
    world = await RolloutWorld.create({
      activationMode: variant.mode,
      plugins: [
        new BatchesPlugin({ batchCount: 3 }),
        new BetaFirstPlugin({}),
        new PauseAndConfirmPlugin({ after: 'each-batch' }),
        ...variant.extra,
      ],
    });
  });
  afterAll(async () => {
    await world.close();
  });

  it('installed the first release unbatched, with a Completed ModuleRollout', async () => {
    const rollout = await world.rollout(1);
    expect(rollout?.status).toMatchObject({ kind: 'first-install', plan: [10], phase: 'Completed' });
  });

  it(`rolls 0.0.2 out in batches 1, 5, 4, holding for a confirmation before each, never switching more bases than released, ${
    uninstallFirst
      ? 'each base updating uninstall-first with an Event'
      : 'no base ever without an ACTIVATED biz1'
  }`, async () => {
    const from = Date.now();
    await world.release('0.0.2');
    for (const [batch, target] of [
      [1, 1],
      [2, 6],
    ] as const) {
      const holding = await world.holding(2, batch + 1);
      expect(holding.status?.plan).toEqual([1, 6, 10]);
      expect(holding.status?.hold?.reason).toBe('AwaitingConfirmation');
      expect(world.switched('0.0.2')).toBe(target);
      // Pods beyond the batch are Pending with a visible hold (once kmc has seen them bound).
      await waitFor(
        async () => {
          const waiting = (await world.pods()).filter(
            (p) => versionOf(p) === '0.0.2' && p.spec?.nodeName && !isReady(p),
          );
          if (
            waiting.length > 0 &&
            waiting.every(
              (p) => heldOf(p)?.reason === 'AwaitingConfirmation' && p.status?.phase === 'Pending',
            )
          )
            return true;
          // Thrown (not returned) so a timeout says what the pods showed.
          throw new Error(
            waiting
              .map(
                (p) =>
                  `${p.metadata?.name ?? ''}: ${p.status?.phase ?? ''} ${heldOf(p)?.reason ?? 'no hold'}`,
              )
              .join('; ') || 'no bound 0.0.2 pod waits',
          );
        },
        { description: 'the pods beyond the batch held, awaiting confirmation', timeoutMs: 30_000 },
      );
      // A lower confirmation, or one given to the earlier rollout's object, does nothing.
      await world.confirm(2, batch);
      await world.confirm(1, batch + 1);
      const events = await world.core.listNamespacedEvent({
        namespace: world.namespace,
        fieldSelector: 'reason=RolloutHolding',
      });
      expect(events.items.length).toBeGreaterThanOrEqual(batch);
      const still = await world.holding(2, batch + 1, 'AwaitingConfirmation');
      expect(still.status?.currentBatch).toBe(batch);
      expect(world.switched('0.0.2')).toBe(target);
      await world.confirm(2, batch + 1);
    }
    await world.completed(2);
    await waitFor(() => world.switched('0.0.2') === 10 && world.switched('0.0.1') === 0, {
      description: 'all bases on 0.0.2 only',
      timeoutMs: 60_000,
    });
    const to = Date.now();
    expect(await world.expectBatchesKept(2, '0.0.2', from)).toEqual([1, 6, 10]);
    if (uninstallFirst) await expectUninstallFirst(world);
    else world.expectNoGaps(from, to);
  });
});

/** Each base lost 0.0.1 before 0.0.2 turned ACTIVATED, and its node has an UninstallFirst Event. */
async function expectUninstallFirst(world: RolloutWorld): Promise<void> {
  for (const base of world.bases) {
    const gone = base.timeline.bizChanges().find((c) => c.bizVersion === '0.0.1' && c.to === undefined)?.at;
    const activated = base.timeline
      .bizChanges()
      .filter((c) => c.bizVersion === '0.0.2' && c.to === 'ACTIVATED')
      .at(-1)?.at;
    expect(gone).toBeDefined();
    expect(activated).toBeGreaterThanOrEqual(gone ?? Infinity);
    const events = await world.core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.name=${world.harness.nodeName(base)}`,
    });
    expect(events.items.map((e) => e.reason)).toContain('UninstallFirst');
  }
}
