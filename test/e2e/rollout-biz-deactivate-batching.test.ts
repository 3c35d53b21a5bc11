import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import type { KmcPlugin } from '../../core/plugin.ts';
import { BizDeactivateBatchingPlugin } from '../../plugins/biz-deactivate-batching-plugin.ts';
import { kubectl } from '../support/kube.ts';
import { toYaml } from '../support/manifests.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

const BASES = 4;

/** When a version of biz1 last stopped being ACTIVATED on a base at or after `from` (deactivated or removed). */
function leftAt(base: SimulatedBase, version: string, from: number): number | undefined {
  return base.timeline
    .bizChanges()
    .filter((c) => c.bizName === 'biz1' && c.bizVersion === version && c.at >= from && c.to !== 'ACTIVATED')
    .at(-1)?.at;
}

function firstActivatedAt(base: SimulatedBase, version: string, from: number): number | undefined {
  return base.timeline
    .bizChanges()
    .find((c) => c.bizName === 'biz1' && c.bizVersion === version && c.to === 'ACTIVATED' && c.at >= from)
    ?.at;
}

/** A bare pod of biz1 0.0.0 on every base, Running: another workload's version of the same module. */
async function canaries(world: RolloutWorld): Promise<void> {
  const { namespace } = world;
  const pods = world.bases.map((base, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `canary-${String(i)}`,
      labels: { 'module-controller.koupleless.io/component': 'module' },
    },
    spec: {
      nodeName: world.harness.nodeName(base),
      containers: [
        {
          name: 'biz1',
          image: 'https://example.invalid/modules/biz1-0.0.0-ark-biz.jar',
          env: [{ name: 'BIZ_VERSION', value: '0.0.0' }],
        },
      ],
      tolerations: [
        { key: 'schedule.koupleless.io/virtual-node', operator: 'Equal', value: 'True', effect: 'NoExecute' },
      ],
    },
  }));
  await kubectl(['apply', '-n', namespace, '-f', '-'], {
    stdin: pods.map((pod) => toYaml(pod)).join('---\n'),
  });
  await waitFor(
    async () => {
      const list = await world.core.listNamespacedPod({ namespace });
      return list.items.filter((p) => p.metadata?.name?.startsWith('canary-') && isReady(p)).length === BASES;
    },
    { description: 'a Ready canary on every base', timeoutMs: 60_000 },
  );
}

interface Batch1 {
  readonly world: RolloutWorld;
  readonly from: number;
  /** When the ModuleRollout recorded batch 1 complete. */
  readonly completedAt: number;
  /** The bases batch 1 switched: 0.0.2 ACTIVATED there before batch 2 started. */
  readonly bases: readonly SimulatedBase[];
}

/**
 * Releases 0.0.2 in 2 batches on bases that keep both versions ACTIVATED, with maxUnavailable 0 so an old pod
 * goes only once the new pod beside it runs, and returns what batch 1 did. The rollout completes and leaves no
 * base without biz1.
 */
async function multiVersionRollout(
  cleanup: (() => Promise<void>)[],
  plugins: readonly KmcPlugin[],
  prepare: (world: RolloutWorld) => Promise<void> = () => Promise.resolve(),
): Promise<Batch1> {
  const world = await RolloutWorld.create({
    plugins,
    bases: BASES,
    activationMode: 'multi-version',
    annotations: { 'rollout.koupleless.io/batch-count': '2' },
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
  });
  cleanup.push(() => world.close());
  await prepare(world);
  const from = Date.now();
  await world.release('0.0.2');
  await world.completed(2);
  await world.settled('0.0.2', BASES);
  world.expectNoGaps(from);
  const status = (await world.rollout(2))?.status;
  const completedAt = Date.parse(status?.batches?.[0]?.completedAt ?? '');
  const batch2At = Date.parse(status?.batches?.[1]?.startedAt ?? '');
  expect(status?.plan).toEqual([2, 4]);
  expect(Number.isFinite(completedAt) && Number.isFinite(batch2At)).toBe(true);
  const bases = world.bases.filter((b) => (firstActivatedAt(b, '0.0.2', from) ?? Infinity) < batch2At);
  expect(bases).toHaveLength(2);
  return { world, from, completedAt, bases };
}

/**
 * biz-deactivate-batching (the module-operation docs' batch update on BizDeactivate): a batch completes only
 * when no base of the batch still runs another version ACTIVATED. On bases that keep both versions active that
 * is when the old pod is gone and its instance uninstalled.
 */
describe('biz-deactivate-batching on bases that keep both versions active', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('a batch completes only once the old instance on each of its bases was uninstalled', async () => {
    const { world, from, completedAt, bases } = await multiVersionRollout(cleanup, [
      new BizDeactivateBatchingPlugin(),
    ]);
    // Batch 1's old instances went before batch 2 started, so no batch sent more uninstalls than its size.
    expect(await world.expectBatchesKept(2, '0.0.2', from)).toEqual([2, 4]);
    for (const base of bases) {
      const activated = firstActivatedAt(base, '0.0.2', from) ?? Infinity;
      const left = leftAt(base, '0.0.1', from);
      const uninstall = base.timeline
        .received('uninstallBiz')
        .find((m) => m.at >= from && m.payload.includes('0.0.1'));
      // The new version ran first (both active), then the old one was uninstalled, then the batch completed.
      expect(uninstall, `uninstall of 0.0.1 on ${base.identity}`).toBeDefined();
      expect(left, `0.0.1 left ${base.identity}`).toBeDefined();
      expect(activated).toBeLessThan(left ?? -Infinity);
      expect(left).toBeLessThanOrEqual(completedAt);
      expect(base.timeline.activatedVersionsAt('biz1', completedAt)).toEqual(['0.0.2']);
    }
  });

  it('a version another workload runs on the bases does not hold the batch: only the old instances of this rollout count', async () => {
    const { world, from, completedAt, bases } = await multiVersionRollout(
      cleanup,
      [new BizDeactivateBatchingPlugin()],
      canaries,
    );
    for (const base of bases) {
      expect(leftAt(base, '0.0.1', from)).toBeLessThanOrEqual(completedAt);
      expect(base.timeline.activatedVersionsAt('biz1', completedAt)).toEqual(['0.0.0', '0.0.2']);
    }
    // The canaries keep their module throughout.
    for (const base of world.bases)
      expect(base.timeline.activationGaps('biz1', from, Date.now())).toEqual([]);
    expect(
      world.bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).includes('0.0.0')),
    ).toBe(true);
  });

  it('without the plugin the same batch completes while the old version still runs beside the new one', async () => {
    const { completedAt, bases } = await multiVersionRollout(cleanup, []);
    const both = bases.filter(
      (b) => b.timeline.activatedVersionsAt('biz1', completedAt).join() === '0.0.1,0.0.2',
    );
    expect(both.length).toBeGreaterThan(0);
  });
});
