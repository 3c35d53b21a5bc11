import { afterEach, describe, expect, it } from 'vitest';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { BetaFirstPlugin } from '../../plugins/beta-first-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import { kubectl } from '../support/kube.ts';
import { heldOf, RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady, versionOf } from '../support/pods.ts';

/** kubectl verbs on a batched rollout that the engine must respect without touching the Deployment itself. */
describe('kubectl on batched rollouts: pause / resume, annotations and overrides, Recreate, pure scaling', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('kubectl rollout pause holds the next batch (RolloutPaused) while a released slot is refilled; resume completes the rollout', async () => {
    const world = await RolloutWorld.create({
      bases: 5,
      installLatencyMs: 1_500,
      plugins: [new BatchesPlugin({ batchCount: 3 }), new BetaFirstPlugin({})],
      rollingUpdate: { maxSurge: 5, maxUnavailable: 0 },
    });
    cleanup.push(() => world.close());
    const ns = ['-n', world.namespace];
    await world.release('0.0.2');
    // Paused while batch 1 (the beta) runs: it finishes, and batch 2 does not start.
    await world.waitRollout(2, (r) => r.status?.currentBatch === 1, 'batch 1 started', 60_000);
    await kubectl(['rollout', 'pause', 'deployment/biz1', ...ns]);
    const paused = await world.holding(2, 2, 'RolloutPaused');
    expect(paused.status?.hold?.message).toContain('kubectl rollout resume deployment/biz1');
    expect(paused.status?.batches?.[0]?.completedAt).toBeDefined();
    expect(world.switched('0.0.2')).toBe(1);
    // kmc never clears the human's pause.
    const deployment = await kubectl(['get', 'deployment/biz1', '-o', 'jsonpath={.spec.paused}', ...ns]);
    expect(deployment.stdout).toBe('true');

    // A released slot is refilled while paused: the batch-1 pod is deleted, its replacement installs.
    const [beta] = (await world.pods()).filter((p) => versionOf(p) === '0.0.2' && isReady(p));
    if (!beta?.metadata?.name) throw new Error('no Ready 0.0.2 pod');
    await kubectl(['delete', 'pod', beta.metadata.name, '--wait=false', ...ns]);
    const refill = await waitFor(
      async () =>
        (await world.pods()).find(
          (p) => versionOf(p) === '0.0.2' && isReady(p) && p.metadata?.name !== beta.metadata?.name,
        ),
      { description: 'a replacement of the batch-1 pod Ready while paused', timeoutMs: 60_000 },
    );
    expect(refill.spec?.nodeName).toBeDefined();
    // Every other new pod is still held, and the rollout still holds for the pause.
    const others = (await world.pods()).filter(
      (p) => versionOf(p) === '0.0.2' && p.metadata?.name !== refill.metadata?.name && p.spec?.nodeName,
    );
    expect(others.every((p) => heldOf(p) !== undefined || !isReady(p))).toBe(true);
    expect((await world.rollout(2))?.status?.hold?.reason).toBe('RolloutPaused');
    // The deleted beta pod's instance is uninstalled (no retention for a pod of the revision being rolled out), so
    // the paused rollout still runs the new version on one base only: the refill's.
    await waitFor(() => Promise.resolve(world.switched('0.0.2') === 1 ? true : undefined), {
      description: 'biz1:0.0.2 running on one base only (the deleted beta pod uninstalled)',
      timeoutMs: 30_000,
    });
    expect((await world.rollout(2))?.status?.hold?.reason).toBe('RolloutPaused');

    const resumedAt = Date.now();
    await kubectl(['rollout', 'resume', 'deployment/biz1', ...ns]);
    await world.completed(2);
    await world.settled('0.0.2', 5);
    const done = await world.rollout(2);
    expect(done?.status?.plan).toEqual([1, 3, 5]);
    // Batch 2 started only once resumed. (The refill moved a replica to another base, and the deleted pod's base
    // lost its module: that was the deletion asked for, so neither the batch count on the bases nor the no-gap
    // rule is asserted here; the other rollout tests do.)
    expect(Date.parse(done?.status?.batches?.[1]?.startedAt ?? '')).toBeGreaterThanOrEqual(resumedAt - 1_000);
  });

  it('a bad annotation is reported (a BadAnnotation Warning Event) and ignored; spec.strategy on the ModuleRollout wins over config and annotations', async () => {
    const world = await RolloutWorld.create({
      bases: 4,
      plugins: [new BatchesPlugin({ batchCount: 2 }), new PauseAndConfirmPlugin({ after: 'each-batch' })],
      annotations: { 'rollout.koupleless.io/gray-seconds': 'soon' },
    });
    cleanup.push(() => world.close());
    await world.release('0.0.2');
    // The unreadable gray time is ignored: batch 2 waits for the confirmation the config file asks for.
    await world.holding(2, 2, 'AwaitingConfirmation');
    const events = await waitFor(
      async () => {
        const list = await world.core.listNamespacedEvent({
          namespace: world.namespace,
          fieldSelector: 'reason=BadAnnotation,involvedObject.kind=Deployment',
        });
        return list.items.length > 0 ? list.items : undefined;
      },
      { description: 'a BadAnnotation Event on the Deployment', timeoutMs: 30_000 },
    );
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.message).toBe(
      'annotation rollout.koupleless.io/gray-seconds: "soon" is not a number of seconds ≥ 0; ignored',
    );
    // This rollout only: no confirmation.
    await world.api.patchSpec('biz1-r2', { strategy: { needConfirm: 'false' } });
    await world.completed(2);
    expect((await world.rollout(2))?.spec.confirmedBatch ?? 0).toBe(0);
  });

  it('a Recreate Deployment is not batched: one batch of every replica, no holds, no base without biz1', async () => {
    const world = await RolloutWorld.create({
      bases: 4,
      plugins: [new BatchesPlugin({ batchCount: 2 })],
    });
    cleanup.push(() => world.close());
    const from = Date.now();
    await world.release('0.0.2', (manifest) => {
      manifest.spec['strategy'] = { type: 'Recreate' };
    });
    await world.completed(2);
    const rollout = await world.rollout(2);
    expect(rollout?.status).toMatchObject({ kind: 'update', plan: [4], phase: 'Completed' });
    await world.settled('0.0.2', 4);
    world.expectNoGaps(from);
  });

  it('kubectl scale of a rolled-out Deployment is not a rollout: new pods install at once, no new ModuleRollout', async () => {
    const world = await RolloutWorld.create({
      bases: 5,
      replicas: 3,
      plugins: [new BatchesPlugin({ batchCount: 3 })],
    });
    cleanup.push(() => world.close());
    await kubectl(['scale', 'deployment/biz1', '--replicas=5', '-n', world.namespace]);
    const pods = await world.settled('0.0.1', 5);
    expect(pods.every((p) => heldOf(p) === undefined)).toBe(true);
    expect((await world.api.list()).map((r) => r.metadata?.name)).toEqual(['biz1-r1']);
    expect((await world.rollout(1))?.status?.phase).toBe('Completed');
  });
});
