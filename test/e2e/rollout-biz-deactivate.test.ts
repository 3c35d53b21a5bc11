import { type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { BizDeactivatePlugin } from '../../plugins/biz-deactivate-plugin.ts';
import { RolloutWorld, heldOf, type RolloutWorldOptions } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';
import { recordWatch } from '../support/watch-recorder.ts';
import { versionOf } from '../support/pods.ts';

const BASES = 4;

/** Every recorded version of each pod, by uid, in arrival order. */
function byUid(versions: readonly V1Pod[]): Map<string, V1Pod[]> {
  const pods = new Map<string, V1Pod[]>();
  for (const pod of versions) {
    const uid = pod.metadata?.uid ?? '';
    pods.set(uid, [...(pods.get(uid) ?? []), pod]);
  }
  return pods;
}

/** The pod showed status.reason BizDeactivate, and phase Failed no earlier. */
function deactivatedThenFailed(history: readonly V1Pod[]): boolean {
  const deactivated = history.findIndex((p) => p.status?.reason === 'BizDeactivate');
  const failed = history.findIndex((p) => p.status?.phase === 'Failed');
  return deactivated !== -1 && failed !== -1 && deactivated <= failed;
}

/** Deleted by its ReplicaSet while it still ran (before its base switched), not failed first. */
function deletedByOwner(history: readonly V1Pod[]): boolean {
  const deleted = history.findIndex((p) => p.metadata?.deletionTimestamp);
  const failed = history.findIndex((p) => p.status?.phase === 'Failed');
  return deleted !== -1 && (failed === -1 || deleted < failed);
}

/** The pod's name and what it went through, for assertion messages. */
const nameOf = (history: readonly V1Pod[]) =>
  `${history[0]?.metadata?.name ?? ''} (${history
    .map((p) =>
      [p.status?.phase, p.status?.reason, heldOf(p)?.reason, p.metadata?.deletionTimestamp ? 'deleting' : '']
        .filter(Boolean)
        .join('/'),
    )
    .join(' → ')})`;

/**
 * Releases 0.0.2 in 2 batches on bases that switch, with a recording of every pod version, and checks what any
 * such rollout must show: it completes, every base ends on 0.0.2 alone without a gap, no 0.0.1 pod is left, every
 * Failed pod went BizDeactivate first and was removed by kmc, and the old revision's replacements were at most
 * one per switched base, held (never installed, never failed). Returns the histories of the old pods.
 */
async function switchRollout(
  cleanup: (() => Promise<void>)[],
  options: Pick<RolloutWorldOptions, 'rollingUpdate'>,
): Promise<V1Pod[][]> {
  const world = await RolloutWorld.create({
    plugins: [new BizDeactivatePlugin({ failPod: true })],
    bases: BASES,
    activationMode: 'switch',
    annotations: { 'rollout.koupleless.io/batch-count': '2' },
    ...options,
  });
  cleanup.push(() => world.close());
  const { core, namespace } = world;
  const recorder = await recordWatch(world.harness.kc, `/api/v1/namespaces/${namespace}/pods`, () =>
    core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' }),
  );
  cleanup.push(() => recorder.stop());
  const before = new Set((await world.pods()).map((p) => p.metadata?.uid ?? ''));
  expect(before.size).toBe(BASES);

  const from = Date.now();
  await world.release('0.0.2');
  await world.completed(2);
  await world.settled('0.0.2', BASES);
  await waitFor(
    () => world.bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.2'),
    { description: 'every base on 0.0.2 only', timeoutMs: 30_000 },
  );
  world.expectNoGaps(from);
  await waitFor(async () => (await world.pods(true)).every((p) => versionOf(p) === '0.0.2'), {
    description: 'no 0.0.1 pod left: the Failed ones and the held replacements are gone',
    timeoutMs: 60_000,
  });
  const done = await world.rollout(2);
  expect(done?.status?.plan).toEqual([2, 4]);

  const histories = byUid(recorder.versions);
  const old = [...histories].filter(([uid]) => before.has(uid)).map(([, history]) => history);
  const failed = [...histories.values()].filter((h) => h.some((p) => p.status?.phase === 'Failed'));
  const removed = new Set(
    (await core.listNamespacedEvent({ namespace, fieldSelector: 'reason=FailedPodRemoved' })).items.map(
      (e) => e.involvedObject.uid,
    ),
  );
  for (const history of failed) {
    expect(deactivatedThenFailed(history), `${nameOf(history)} BizDeactivate before Failed`).toBe(true);
    expect(removed.has(history[0]?.metadata?.uid), `${nameOf(history)} removed by kmc`).toBe(true);
  }

  const replacements = [...histories]
    .filter(([uid, history]) => !before.has(uid) && history.some((p) => versionOf(p) === '0.0.1'))
    .map(([, history]) => history);
  const switchedInPlace = old.filter(deactivatedThenFailed).length;
  expect(replacements.length).toBeLessThanOrEqual(switchedInPlace);
  const heldOn = new Map<string, number>();
  for (const history of replacements) {
    expect(
      history.some((p) => p.status?.phase === 'Failed'),
      `${nameOf(history)} failed`,
    ).toBe(false);
    const node = history.find((p) => p.spec?.nodeName)?.spec?.nodeName;
    if (node && history.some((p) => heldOf(p))) heldOn.set(node, (heldOn.get(node) ?? 0) + 1);
  }
  for (const [node, count] of heldOn) expect(count, `held replacements on ${node}`).toBeLessThanOrEqual(1);
  // A replacement the gate admitted adopted a retained 0.0.1 (its base had not switched yet): the old version was
  // never installed again.
  const reinstalls = world.bases
    .flatMap((b) => b.timeline.received('installBiz'))
    .filter((m) => m.at >= from && m.payload.includes('0.0.1'));
  expect(reinstalls).toEqual([]);
  return old;
}

/**
 * The module-operation docs' BizDeactivate with `failPod`, through a batched update on bases that switch: the
 * base deactivates the old version when the new one is activated, the old pod shows BizDeactivate and goes
 * Failed, kmc removes it, and its ReplicaSet's replacement is held (its base runs the new version) until the
 * Deployment controller scales it away.
 */
describe('biz-deactivate with failPod: batched updates on bases that switch', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('with maxUnavailable 0 every old pod goes BizDeactivate, Failed and removed, or is deleted by its ReplicaSet first; at most one held replacement per base, each removed; every base ends on 0.0.2', async () => {
    const old = await switchRollout(cleanup, { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(old).toHaveLength(BASES);
    // Two writers race for each old pod — kmc failing it once its base switched, and the ReplicaSet scaling down
    // (its module kept by the rollout retention, so no base loses biz1: switchRollout checks no gaps) — and either
    // may win; at least one pod shows the BizDeactivate path.
    for (const history of old) {
      expect(deactivatedThenFailed(history) || deletedByOwner(history), nameOf(history)).toBe(true);
    }
    expect(old.filter(deactivatedThenFailed).length).toBeGreaterThan(0);
  });

  it('with the example 30 % / 30 %: each old pod is deleted ahead by its ReplicaSet (its module kept, no gap) or goes BizDeactivate then Failed; replacement churn stays bounded', async () => {
    const old = await switchRollout(cleanup, {});
    expect(old).toHaveLength(BASES);
    for (const history of old) {
      expect(deactivatedThenFailed(history) || deletedByOwner(history), nameOf(history)).toBe(true);
    }
    // maxUnavailable 1 of 4: the Deployment controller scales the old ReplicaSet down before any new pod runs.
    expect(old.filter(deletedByOwner).length).toBeGreaterThan(0);
  });
});
