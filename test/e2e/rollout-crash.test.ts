import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserConfig } from '../../config/config-schema.ts';
import { readRecords } from '../../core/module/node-records.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import { keepLogsOnFailure } from '../support/failure-logs.ts';
import { startKmcProcess, type KmcProcess } from '../support/kmc-process.ts';
import { heldOf, RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady, versionOf } from '../support/pods.ts';

/**
 * How soon a restarted base must run its retained module again once it is connected: a queryBaseline, one
 * reconcile, the baseline and a batch install of 300 ms. It takes about a second; the rest is room for a
 * 2-core machine busy with other runs.
 */
const BACK_IN_SERVICE_MS = 8_000;

/** How long each install takes on the bases of the controller-crash scenario (see there). */
const INSTALL_MS = 8_000;

/** installBiz commands each base received at or after `from`, by version. */
function installsByBase(
  bases: readonly SimulatedBase[],
  from: number,
): Record<string, Record<string, number>> {
  return Object.fromEntries(
    bases.map((base) => {
      const counts: Record<string, number> = {};
      for (const command of base.timeline.received('installBiz')) {
        if (command.at < from) continue;
        const version = bizVersionOf(command.payload) ?? '?';
        counts[version] = (counts[version] ?? 0) + 1;
      }
      return [base.identity, counts];
    }),
  );
}

function bizVersionOf(payload: string): string | undefined {
  const parsed = JSON.parse(payload) as { bizVersion?: unknown };
  return typeof parsed.bizVersion === 'string' ? parsed.bizVersion : undefined;
}

/** The bases that received an installBiz of `version` at or after `from`. */
function installedTo(bases: readonly SimulatedBase[], version: string, from: number): SimulatedBase[] {
  return bases.filter((base) =>
    base.timeline
      .received('installBiz')
      .some((command) => command.at >= from && bizVersionOf(command.payload) === version),
  );
}

const podName = (pod: V1Pod) => pod.metadata?.name ?? '';

/**
 * Crashes in the middle of a batched rollout (issue 4 acceptance criteria): the controller killed with SIGKILL
 * inside batch 2, and a base restarted (same identity) while it holds a retained old instance and a held new
 * pod. Both must leave the batches kept, install nothing twice, and finish the rollout.
 */
describe('batched rollout survives crashes of the controller and of a base', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it(
    'kmc killed (-9) in the middle of batch 2 and restarted: the rollout completes in batches 1, 6, 10 with no ' +
      'batch exceeded, no base sent a second installBiz of 0.0.2, and no base ever without an ACTIVATED biz1',
    async () => {
      // Installs of 8 s, longer than a `kmc run` takes to start (about 3 s on an idle machine), so an install
      // published just before the kill is still running on its base when the new process looks at it; and a
      // rolling update that creates new pods two at a time (maxSurge 2, maxUnavailable 0, one pod per base per
      // ReplicaSet), so batch 2's five installs go out in waves and the kill lands with some published, not all.
      const world = await RolloutWorld.create({
        bases: 10,
        installLatencyMs: INSTALL_MS,
        rollingUpdate: { maxSurge: 2, maxUnavailable: 0 },
      });
      const processes: KmcProcess[] = [];
      cleanup.push(async () => {
        for (const p of processes) await p.kill();
        await world.close();
      });
      keepLogsOnFailure('rollout-crash-kmc', () => processes.flatMap((p) => p.logs()));

      // The in-process kmc that installed 0.0.1 gives way to `kmc run` processes with the docs' strategy,
      // selected in the config file (same env, bases, namespace). No leader election: a restarted process leads
      // at once.
      await world.harness.stopKmc();
      const config: UserConfig = world.harness.kmcConfig({
        log: { level: 'debug' },
        plugins: [
          ['batches', { batchCount: 3 }],
          'beta-first',
          ['pause-and-confirm', { after: 'each-batch' }],
        ],
      });
      const start = async () => {
        const p = await startKmcProcess(config);
        processes.push(p);
        await waitFor(() => p.logs().some((line) => line['msg'] === 'kmc running'), {
          description: `kmc ${p.identity} running`,
          timeoutMs: 60_000,
        });
        return p;
      };
      const first = await start();

      const from = Date.now();
      await world.release('0.0.2');
      const beforeBatch2 = await world.holding(2, 2, 'AwaitingConfirmation', 120_000);
      expect(beforeBatch2.status?.plan).toEqual([1, 6, 10]);
      expect(world.switched('0.0.2')).toBe(1);
      const beta = new Set(installedTo(world.bases, '0.0.2', from));
      expect(beta.size).toBe(1);

      await world.confirm(2, 2);
      // Inside batch 2: some of its installs published, not all, and one of them still running on its base.
      const atKill = await waitFor(
        () => {
          const batch2 = installedTo(world.bases, '0.0.2', from).filter((b) => !beta.has(b));
          const installing = batch2.filter((b) => b.timeline.firstActivatedAt('biz1', '0.0.2') === undefined);
          return batch2.length >= 1 && batch2.length < 5 && installing.length >= 1
            ? { published: batch2.length, installing }
            : undefined;
        },
        { description: 'batch 2 partly published, an install running', timeoutMs: 120_000, intervalMs: 20 },
      );
      await first.kill('SIGKILL');
      const killedAt = Date.now();
      expect(first.child.signalCode).toBe('SIGKILL');
      const during = await world.rollout(2);
      expect(during?.status?.currentBatch).toBe(2);
      expect(during?.status?.batches?.[1]?.completedAt).toBeUndefined();

      await start();
      // The case that matters: the new process found an install of its predecessor still running.
      const runningAt = Date.now();
      expect(
        atKill.installing.some((b) => (b.timeline.firstActivatedAt('biz1', '0.0.2') ?? Infinity) > runningAt),
        `an install running at the kill still ran when the new kmc was up (${String(runningAt - killedAt)} ms ` +
          `after the kill; installs take ${String(INSTALL_MS)} ms)`,
      ).toBe(true);
      const beforeBatch3 = await world.holding(2, 3, 'AwaitingConfirmation', 180_000);
      expect(beforeBatch3.status?.plan).toEqual([1, 6, 10]);
      expect(world.switched('0.0.2')).toBe(6);
      // Beyond the batch: new pods held, none installed.
      expect(installedTo(world.bases, '0.0.2', from)).toHaveLength(6);
      await world.confirm(2, 3);

      await world.completed(2, 180);
      await waitFor(() => world.switched('0.0.2') === 10 && world.switched('0.0.1') === 0, {
        description: 'all bases on 0.0.2 only',
        timeoutMs: 90_000,
      });
      const to = Date.now();
      const pods = await world.settled('0.0.2', 10);
      expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(10);
      const done = await world.rollout(2);
      expect(done?.status?.phase).toBe('Completed');

      expect(await world.expectBatchesKept(2, '0.0.2', from)).toEqual([1, 6, 10]);
      // One install per base, of 0.0.2 only: the restarted controller sent nothing again, not even for the
      // install that was running when its predecessor died.
      const installs = installsByBase(world.bases, from);
      expect(installs).toEqual(Object.fromEntries(world.bases.map((b) => [b.identity, { '0.0.2': 1 }])));
      world.expectNoGaps(from, to);
      // The kill came in the middle of batch 2, as intended.
      expect(atKill.published).toBeGreaterThanOrEqual(1);
      expect(Date.parse(done?.status?.batches?.[1]?.completedAt ?? '')).toBeGreaterThan(killedAt);
    },
    420_000,
  );

  it(
    'a base restarted (same identity) holding a retained 0.0.1 and a held 0.0.2 pod gets only 0.0.1 in its ' +
      'baseline and runs it again within seconds; the 0.0.2 pod stays held until batch 2, no batch is exceeded, ' +
      'and the rollout completes with that base on 0.0.2',
    async () => {
      // Four bases, batches 2 and 4 with a confirmation before batch 2, and a rolling update that deletes every
      // old pod at once and then creates the new ones (maxSurge 0, maxUnavailable 100 %, one pod per base per
      // ReplicaSet): each base has its 0.0.1 pod deleted before 0.0.2 runs there (a rollout retention keeps the
      // instance) and a new pod, of which batch 1 admits two; the other two are held.
      const world = await RolloutWorld.create({
        bases: 4,
        plugins: [new BatchesPlugin({ batchCount: 2 }), new PauseAndConfirmPlugin({ after: 'each-batch' })],
        rollingUpdate: { maxSurge: 0, maxUnavailable: '100%' },
      });
      cleanup.push(() => world.close());

      const from = Date.now();
      await world.release('0.0.2');
      const holding = await world.holding(2, 2, 'AwaitingConfirmation', 120_000);
      expect(holding.status?.plan).toEqual([2, 4]);

      // A base with a held 0.0.2 pod, no 0.0.1 pod any more, 0.0.1 ACTIVATED and recorded as retained.
      const scene = await waitFor(
        async () => {
          const pods = await world.pods(true);
          const problems: string[] = [];
          for (const pod of pods) {
            const nodeName = pod.spec?.nodeName;
            const base = world.bases.find((b) => world.harness.nodeName(b) === nodeName);
            if (!base || versionOf(pod) !== '0.0.2' || pod.metadata?.deletionTimestamp) continue;
            if (heldOf(pod)?.reason !== 'AwaitingConfirmation') {
              problems.push(`${podName(pod)}: ${heldOf(pod)?.reason ?? 'not held'}`);
              continue;
            }
            if (pods.some((p) => p.spec?.nodeName === nodeName && versionOf(p) === '0.0.1')) {
              problems.push(`${podName(pod)}: the 0.0.1 pod on its base is still there`);
              continue;
            }
            const node = await world.core.readNode({ name: nodeName ?? '' });
            const retained = readRecords(node).retentions.some(
              (r) => r.bizName === 'biz1' && r.bizVersion === '0.0.1' && r.reason === 'rollout',
            );
            const running = base.timeline.activatedVersionsAt('biz1', Date.now());
            if (!retained || running.join() !== '0.0.1') {
              problems.push(`${podName(pod)}: retained ${String(retained)}, running ${running.join()}`);
              continue;
            }
            return { base, pod };
          }
          throw new Error(problems.join('; ') || 'no held 0.0.2 pod');
        },
        { description: 'a base with a retained 0.0.1 and a held 0.0.2 pod', timeoutMs: 60_000 },
      );
      const { base } = scene;
      const heldUid = scene.pod.metadata?.uid;
      const switchedBefore = world.switched('0.0.2');
      expect(switchedBefore).toBe(2);

      const restartAt = Date.now();
      await base.restart();
      const connectedAt = base.timeline.lifecycle('connected').at(-1)?.at ?? Date.now();
      expect(connectedAt).toBeGreaterThanOrEqual(restartAt);
      // The restarted process lost everything; its baseline brings back the retained instance only.
      const baseline = await waitFor(
        () => base.timeline.received('baseline').find((m) => m.at >= restartAt),
        { description: 'the baseline for the restarted base', timeoutMs: BACK_IN_SERVICE_MS },
      );
      const items = JSON.parse(baseline.payload) as { bizName?: string; bizVersion?: string }[];
      expect(items.map((i) => `${i.bizName ?? ''}:${i.bizVersion ?? ''}`)).toEqual(['biz1:0.0.1']);
      const backAt = await waitFor(
        () => {
          const at = base.timeline
            .bizChanges()
            .find(
              (c) =>
                c.bizName === 'biz1' && c.bizVersion === '0.0.1' && c.to === 'ACTIVATED' && c.at >= restartAt,
            )?.at;
          return at;
        },
        { description: '0.0.1 ACTIVATED again on the restarted base', timeoutMs: BACK_IN_SERVICE_MS },
      );
      expect(backAt - connectedAt).toBeLessThan(BACK_IN_SERVICE_MS);

      // kmc looks at the base's module list a few times after the restart: the new pod stays held all along.
      const polls = base.timeline.received('queryAllBiz').length;
      await waitFor(() => base.timeline.received('queryAllBiz').length >= polls + 3, {
        description: 'module list polls after the restart',
        timeoutMs: 30_000,
      });
      const held = (await world.pods()).find((p) => p.metadata?.uid === heldUid);
      expect(held && heldOf(held)?.reason).toBe('AwaitingConfirmation');
      expect(held && isReady(held)).toBe(false);
      expect(installedTo([base], '0.0.2', from)).toEqual([]);
      expect(base.timeline.received('uninstallBiz').filter((m) => m.at >= restartAt)).toEqual([]);
      expect(base.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.1']);
      expect(world.switched('0.0.2')).toBe(switchedBefore);
      expect((await world.rollout(2))?.status?.hold?.batch).toBe(2);

      await world.confirm(2, 2);
      await world.completed(2, 180);
      await waitFor(() => world.switched('0.0.2') === 4 && world.switched('0.0.1') === 0, {
        description: 'all bases on 0.0.2 only',
        timeoutMs: 90_000,
      });
      await world.settled('0.0.2', 4);
      expect(base.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.2']);
      // The held pod itself was admitted by batch 2 and installed 0.0.2 once.
      expect((await world.pods()).some((p) => p.metadata?.uid === heldUid && isReady(p))).toBe(true);
      expect(installsByBase([base], from)[base.identity]).toEqual({ '0.0.2': 1 });
      expect(await world.expectBatchesKept(2, '0.0.2', from)).toEqual([2, 4]);
      // The other bases never lost biz1; the restarted one only while it was down.
      const to = Date.now();
      for (const other of world.bases.filter((b) => b !== base)) {
        expect(other.timeline.activationGaps('biz1', from, to), other.identity).toEqual([]);
      }
      const gaps = base.timeline.activationGaps('biz1', from, to);
      expect(gaps).toHaveLength(1);
      expect(gaps[0]?.from).toBeGreaterThanOrEqual(restartAt);
      expect(gaps[0]?.to).toBe(backAt);
    },
    300_000,
  );
});
