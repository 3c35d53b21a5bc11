import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { GrayTimePlugin } from '../../plugins/gray-time-plugin.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { recordWatch, type WatchRecorder } from '../support/watch-recorder.ts';
import { isReady, versionOf } from '../support/pods.ts';

const GRAY_SECONDS = 5;
/** The plan of 6 replicas in 3 batches, cumulative. */
const PLAN = [2, 4, 6];

/** When each pod was first seen Ready, by the test's watch (ms), and by its Ready condition (API, whole seconds). */
function readyTimes(
  recorder: WatchRecorder<V1Pod>,
  version: string,
): { uid: string; seenAt: number; transitionAt: number }[] {
  const seen = new Map<string, { seenAt: number; transitionAt: number }>();
  for (const { at, object } of recorder.arrivals) {
    const uid = object.metadata?.uid ?? '';
    if (seen.has(uid) || versionOf(object) !== version || !isReady(object)) continue;
    const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
    seen.set(uid, { seenAt: at, transitionAt: new Date(ready?.lastTransitionTime ?? 0).getTime() });
  }
  return [...seen].map(([uid, times]) => ({ uid, ...times })).sort((a, b) => a.seenAt - b.seenAt);
}

/**
 * Gray time (the v1 `grayTime`): 6 bases, 3 batches of 2, 5 s between a batch completing and the next starting.
 * The interval is measured on what the bases received and on what the API server recorded, not on the
 * ModuleRollout alone.
 */
describe(`gray time ${String(GRAY_SECONDS)} s between batches`, () => {
  let world: RolloutWorld;
  let pods: WatchRecorder<V1Pod>;

  beforeAll(async () => {
    world = await RolloutWorld.create({
      bases: 6,
      plugins: [new BatchesPlugin({ batchCount: 3 }), new GrayTimePlugin({ seconds: GRAY_SECONDS })],
      // maxUnavailable 0: an old pod goes only once its replacement is Ready, so each batch is its own pods.
      rollingUpdate: { maxSurge: 2, maxUnavailable: 0 },
    });
    const { core, namespace } = world;
    pods = await recordWatch(world.harness.kc, `/api/v1/namespaces/${namespace}/pods`, () =>
      core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' }),
    );
  });
  afterAll(async () => {
    await pods.stop();
    await world.close();
  });

  it(`publishes each batch's first install ${String(GRAY_SECONDS)}–9 s after the previous batch's last pod turned Ready, holding GrayTime meanwhile`, async () => {
    const from = Date.now();
    await world.release('0.0.2');
    const held = await world.holding(2, 2, 'GrayTime');
    expect(held.status?.hold?.message).toContain(`gray time ${String(GRAY_SECONDS)} s after batch 1`);
    await world.completed(2);
    await world.settled('0.0.2', PLAN.at(-1) ?? 0);

    const done = await world.rollout(2);
    expect(done?.status?.plan).toEqual(PLAN);
    const batches = done?.status?.batches ?? [];
    const installs = world.bases
      .flatMap((b) => b.timeline.received('installBiz'))
      .filter((m) => m.at >= from && m.payload.includes('0.0.2'))
      .map((m) => m.at)
      .sort((a, b) => a - b);
    // One install per base: multi-version bases keep the old version while the new one starts.
    expect(installs).toHaveLength(PLAN.at(-1) ?? 0);
    const ready = readyTimes(pods, '0.0.2');
    expect(ready).toHaveLength(PLAN.at(-1) ?? 0);

    for (let batch = 2; batch <= PLAN.length; batch += 1) {
      const previousTarget = PLAN[batch - 2] ?? 0;
      // The previous batch's last pod: the one whose Ready made its target.
      const lastReady = ready[previousTarget - 1];
      const firstInstall = installs[previousTarget];
      if (!lastReady || firstInstall === undefined)
        throw new Error(`batch ${String(batch)}: nothing recorded`);
      // Lower bound on the API's Ready time (stamped by kmc, truncated to the second: never later than the
      // instant); upper bound on when the test saw it (never earlier than the instant).
      const afterTransition = firstInstall - lastReady.transitionAt;
      const afterSeen = firstInstall - lastReady.seenAt;
      const figures = `batch ${String(batch)}: first install ${new Date(firstInstall).toISOString()}, ${String(afterTransition)} ms after the Ready condition, ${String(afterSeen)} ms after it was seen`;
      expect(afterTransition, figures).toBeGreaterThanOrEqual(GRAY_SECONDS * 1000);
      expect(afterSeen, figures).toBeLessThanOrEqual(9_000);
      // The ModuleRollout agrees: the batch started no sooner than the gray time after the previous completed.
      const started = Date.parse(batches[batch - 1]?.startedAt ?? '');
      const completed = Date.parse(batches[batch - 2]?.completedAt ?? '');
      expect(started - completed, figures).toBeGreaterThanOrEqual(GRAY_SECONDS * 1000);
    }
    world.expectNoGaps(from);
  });
});
