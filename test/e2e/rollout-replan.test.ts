import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords } from '../../core/module/node-records.ts';
import type { ModuleRollout } from '../../core/rollout/module-rollout.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { BetaFirstPlugin } from '../../plugins/beta-first-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import { kubectl } from '../support/kube.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Re-planning mid-rollout (ARCHITECTURE §3.2 "Re-planning"): a new apply supersedes the running rollout, a
 * `kubectl scale` rescales its remaining targets, and deleting the Deployment ends it — every time in the middle
 * of a batch of the docs' strategy (batchCount 3, beta, a confirmation before each batch), on bases whose
 * installs are slow enough that the batch is still running when the change comes.
 */
const plugins = () => [
  new BatchesPlugin({ batchCount: 3 }),
  new BetaFirstPlugin({}),
  new PauseAndConfirmPlugin({ after: 'each-batch' }),
];

/** Confirms batch 2 of a revision, then waits until it has started and is not complete yet. */
async function intoBatch2(world: RolloutWorld, revision: number): Promise<ModuleRollout> {
  await world.holding(revision, 2, 'AwaitingConfirmation', 120_000);
  await world.confirm(revision, 2);
  return world.waitRollout(
    revision,
    (r) => r.status?.currentBatch === 2 && !r.status.batches?.[1]?.completedAt,
    `biz1-r${String(revision)} batch 2 running`,
  );
}

/** Events about a ModuleRollout with a given reason. */
async function eventsOf(world: RolloutWorld, rollout: string, reason: string) {
  const events = await world.core.listNamespacedEvent({
    namespace: world.namespace,
    fieldSelector: `involvedObject.name=${rollout},reason=${reason}`,
  });
  return events.items;
}

/**
 * The batch invariants of a rollout to `version` that superseded another, on the bases' timelines. The world's
 * expectBatchesKept counts uninstall commands of other versions against the batches, which holds when one old
 * version is replaced; here a base may drop two (0.0.1 and 0.0.2) for one replica, and the superseded rollout's
 * own clean-up (0.0.1 going where 0.0.2 runs) may land after `from`. What must hold is the same in replicas: at
 * no instant more bases switched to `version`, and never more bases left with no other version ACTIVATED (an
 * old replica gone), than the batches started by then allow.
 */
async function expectSupersedingBatchesKept(
  world: RolloutWorld,
  revision: number,
  version: string,
  from: number,
): Promise<number[]> {
  const done = await world.rollout(revision);
  const starts = (done?.status?.batches ?? []).map((b) => ({
    target: b.target,
    at: Date.parse(b.startedAt ?? ''),
  }));
  const releasedAt = (at: number) => starts.filter((b) => b.at <= at).at(-1)?.target ?? 0;
  const firstAt = (base: SimulatedBase, accept: (versions: string[]) => boolean) => {
    const changes = base.timeline.bizChanges().filter((c) => c.bizName === 'biz1' && c.at >= from);
    return changes.find((c) => accept(base.timeline.activatedVersionsAt('biz1', c.at)))?.at;
  };
  const check = (what: string, instants: (number | undefined)[]) => {
    const sorted = instants.filter((at) => at !== undefined).sort((a, b) => a - b);
    sorted.forEach((at, i) => {
      expect(i + 1, `${what} ${String(i + 1)} at ${new Date(at).toISOString()}`).toBeLessThanOrEqual(
        releasedAt(at),
      );
    });
  };
  check(
    `activation of ${version}`,
    world.bases.map((b) => firstAt(b, (versions) => versions.includes(version))),
  );
  check(
    'old replica gone',
    world.bases.map((b) => firstAt(b, (versions) => versions.every((v) => v === version))),
  );
  return starts.map((b) => b.target);
}

/** The biz an install / uninstall command names. */
function commandOf(payload: string): { bizName?: string; bizVersion?: string } {
  try {
    return JSON.parse(payload) as { bizName?: string; bizVersion?: string };
  } catch {
    return {};
  }
}

/** biz1 retentions recorded on the world's Nodes. */
async function biz1Retentions(world: RolloutWorld): Promise<string[]> {
  const retentions: string[] = [];
  for (const base of world.bases) {
    const node = await world.core.readNode({ name: world.harness.nodeName(base) });
    for (const r of readRecords(node).retentions) {
      if (r.bizName === 'biz1') retentions.push(`${base.identity}: ${r.bizVersion} (${r.reason})`);
    }
  }
  return retentions;
}

describe('a new apply (0.0.3) in the middle of batch 2 of a 0.0.2 rollout, on 10 bases', () => {
  let world: RolloutWorld;

  beforeAll(async () => {
    world = await RolloutWorld.create({ bases: 10, installLatencyMs: 2_000, plugins: plugins() });
  });
  afterAll(async () => {
    await world.close();
  });

  it('ends the 0.0.2 rollout Superseded with an Event; 0.0.3 rolls by its own plan to every base, retentions released, no base ever without biz1', async () => {
    const from = Date.now();
    await world.release('0.0.2');
    await intoBatch2(world, 2);
    expect(world.switched('0.0.2')).toBeLessThan(6);

    const supersededAt = Date.now();
    await world.release('0.0.3');
    const superseded = await world.waitRollout(
      2,
      (r) => r.status?.phase === 'Superseded',
      'biz1-r2 Superseded',
    );
    const supersededSeenAt = Date.now();
    expect(superseded.status).toMatchObject({
      phase: 'Superseded',
      reason: 'Superseded',
      message: 'revision 3 was applied before this rollout completed',
      plan: [1, 6, 10],
      currentBatch: 2,
    });
    // `hold: null` in a merge patch removes the field: no hold is shown any more.
    expect(superseded.status?.hold ?? null).toBeNull();
    expect(superseded.status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Progressing', status: 'False' }),
        expect.objectContaining({ type: 'Completed', status: 'False' }),
      ]),
    );
    const events = await waitFor(
      async () => {
        const found = await eventsOf(world, 'biz1-r2', 'RolloutSuperseded');
        return found.length > 0 ? found : undefined;
      },
      { description: 'a RolloutSuperseded Event on biz1-r2', timeoutMs: 30_000 },
    );
    expect(events[0]?.message).toBe('revision 2 superseded by revision 3');

    // 0.0.3 rolls by a plan of its own (not the remains of 0.0.2's), from the last completed revision.
    for (const [batch, target] of [
      [1, 1],
      [2, 6],
    ] as const) {
      const holding = await world.holding(3, batch + 1, 'AwaitingConfirmation', 120_000);
      expect(holding.status).toMatchObject({
        kind: 'update',
        stableRevision: 1,
        targetRevision: 3,
        plan: [1, 6, 10],
        currentBatch: batch,
      });
      expect(world.switched('0.0.3')).toBe(target);
      await world.confirm(3, batch + 1);
    }
    await world.completed(3);
    await world.settled('0.0.3', 10);
    await waitFor(
      () => world.switched('0.0.3') === 10 && world.switched('0.0.2') === 0 && world.switched('0.0.1') === 0,
      { description: 'every base on 0.0.3 only', timeoutMs: 90_000 },
    );
    const to = Date.now();
    // Retentions of 0.0.1 and 0.0.2 were re-evaluated against 0.0.3 and released; no base keeps an old copy.
    await waitFor(async () => (await biz1Retentions(world)).length === 0, {
      description: 'no biz1 retention left on any Node',
      timeoutMs: 60_000,
    });
    await waitFor(
      () =>
        world.bases.every((b) => {
          const versions = b.modules().filter((m) => m.bizName === 'biz1');
          return versions.length === 1 && versions[0]?.bizVersion === '0.0.3';
        }),
      { description: 'every base holds biz1 0.0.3 and no other version', timeoutMs: 60_000 },
    );
    // The superseded revision's held pods were never installed after it was superseded.
    const lateInstalls = world.bases.flatMap((b) =>
      b.timeline
        .received('installBiz')
        .filter((m) => m.at > supersededSeenAt + 1_000 && commandOf(m.payload).bizVersion === '0.0.2')
        .map((m) => `${b.identity} at +${String(m.at - supersededSeenAt)}ms`),
    );
    expect(lateInstalls).toEqual([]);
    world.expectNoGaps(from, to);
    expect(await expectSupersedingBatchesKept(world, 3, '0.0.3', supersededAt)).toEqual([1, 6, 10]);
    expect((await world.rollout(2))?.status?.phase).toBe('Superseded');
  });
});

describe('kubectl scale 10 → 12 in the middle of batch 2, on 12 bases', () => {
  let world: RolloutWorld;

  beforeAll(async () => {
    world = await RolloutWorld.create({
      bases: 12,
      replicas: 10,
      installLatencyMs: 2_000,
      plugins: plugins(),
    });
  });
  afterAll(async () => {
    await world.close();
  });

  it('grows the remaining targets (1, 6, 10 → 1, 6, 12), never lowers a started batch nor exceeds one, and ends with 12 pods at 0.0.2', async () => {
    const from = Date.now();
    await world.release('0.0.2');
    const running = await intoBatch2(world, 2);
    expect(running.status?.plan).toEqual([1, 6, 10]);

    await kubectl(['scale', '-n', world.namespace, 'deployment/biz1', '--replicas=12']);
    // rescalePlan: started batches (1 and 2) keep their targets; the 12 − 6 pods left go to the one batch left.
    const rescaled = await world.waitRollout(
      2,
      (r) => r.status?.replicas === 12,
      'biz1-r2 rescaled to 12 replicas',
    );
    expect(rescaled.status?.plan).toEqual([1, 6, 12]);
    expect(rescaled.status?.batches?.slice(0, 2).map((b) => b.target)).toEqual([1, 6]);
    expect(rescaled.status?.batches?.[1]?.startedAt).toBe(running.status?.batches?.[1]?.startedAt);
    const events = await waitFor(
      async () => {
        const found = await eventsOf(world, 'biz1-r2', 'RolloutRescaled');
        return found.length > 0 ? found : undefined;
      },
      { description: 'a RolloutRescaled Event on biz1-r2', timeoutMs: 30_000 },
    );
    expect(events[0]?.message).toBe('scaled to 12: plan 1, 6, 12');

    // Batch 2 still stops at 6: the growth lands in batch 3, after its confirmation.
    const holding = await world.holding(2, 3, 'AwaitingConfirmation', 120_000);
    expect(holding.status).toMatchObject({ plan: [1, 6, 12], currentBatch: 2 });
    expect(world.switched('0.0.2')).toBe(6);
    await world.confirm(2, 3);
    await world.completed(2);
    await world.settled('0.0.2', 12);
    await waitFor(() => world.switched('0.0.2') === 12 && world.switched('0.0.1') === 0, {
      description: 'all 12 bases on 0.0.2 only',
      timeoutMs: 90_000,
    });
    const to = Date.now();
    expect(await world.expectBatchesKept(2, '0.0.2', from)).toEqual([1, 6, 12]);
    world.expectNoGaps(from, to);
  });
});

describe('kubectl delete of the Deployment in the middle of batch 2, on 6 bases', () => {
  let world: RolloutWorld;

  beforeAll(async () => {
    world = await RolloutWorld.create({ bases: 6, installLatencyMs: 2_000, plugins: plugins() });
  });
  afterAll(async () => {
    await world.close();
  });

  it('ends the rollout (its ModuleRollouts are garbage-collected with the Deployment) and uninstalls biz1 from every base', async () => {
    await world.release('0.0.2');
    const running = await intoBatch2(world, 2);
    expect(running.status?.plan).toEqual([1, 4, 6]);
    const deletedAt = Date.now();

    await kubectl(['delete', '-n', world.namespace, 'deployment/biz1']);
    await waitFor(
      async () => {
        const left = await world.api.list();
        if (left.length === 0) return true;
        throw new Error(left.map((r) => `${r.metadata?.name ?? ''} ${r.status?.phase ?? ''}`).join(', '));
      },
      { description: 'the ModuleRollouts of biz1 gone with the Deployment', timeoutMs: 90_000 },
    );
    await waitFor(
      async () => {
        const pending = world.bases
          .filter(
            (b) =>
              b.modules().some((m) => m.bizName === 'biz1') ||
              !b.timeline
                .received('uninstallBiz')
                .some((m) => m.at >= deletedAt && commandOf(m.payload).bizName === 'biz1'),
          )
          .map(
            (b) =>
              `${b.identity}: ${b
                .modules()
                .map((m) => `${m.bizName}:${m.bizVersion}`)
                .join(' ')}`,
          );
        if (pending.length === 0 && (await world.pods(true)).length === 0) return true;
        throw new Error(pending.join('; ') || 'biz1 pods remain');
      },
      { description: 'biz1 uninstalled from every base, no pod left', timeoutMs: 120_000 },
    );
    expect(await biz1Retentions(world)).toEqual([]);
    // Nothing re-creates a rollout for the deleted Deployment.
    expect(await world.api.list()).toEqual([]);
  });
});
