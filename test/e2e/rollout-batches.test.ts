import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { BetaFirstPlugin } from '../../plugins/beta-first-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import {
  exampleManifest,
  selectBases,
  setModuleVersion,
  toYaml,
  type ModuleWorkload,
} from '../support/manifests.ts';
import { rolloutsApi } from '../support/rollouts.ts';
import { waitFor } from '../support/wait-for.ts';

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const versionOf = (pod: V1Pod) => pod.spec?.containers[0]?.env?.find((e) => e.name === 'BIZ_VERSION')?.value;
const held = (pod: V1Pod) =>
  pod.status?.conditions?.find((c) => c.type === 'koupleless.io/InstallHeld' && c.status === 'True');

/**
 * The docs' release strategy on 10 bases: batchCount 3 with beta (batches 1, 5, 4), a confirmation before each
 * batch, the example Deployment's 30 % / 30 % rolling update.
 */
describe('batched rollout: batchCount 3 with beta and a confirmation per batch', () => {
  let harness: KmcHarness;
  let core: CoreV1Api;
  let namespace: string;
  let bases: SimulatedBase[];
  let manifest: ModuleWorkload;
  const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items;

  beforeAll(async () => {
    harness = await KmcHarness.start({
      plugins: [
        new BatchesPlugin({ batchCount: 3 }),
        new BetaFirstPlugin({}),
        new PauseAndConfirmPlugin({ after: 'each-batch' }),
      ],
    });
    core = harness.kc.makeApiClient(CoreV1Api);
    namespace = harness.namespace;
    const baseName = `base-${harness.env}`;
    bases = [];
    for (let i = 0; i < 10; i += 1) bases.push(await harness.base({ name: baseName, installLatencyMs: 300 }));
    manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 10;
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await harness.close();
  });

  it('installs the first release unbatched, with a Completed ModuleRollout', async () => {
    await kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(manifest) });
    await waitFor(
      async () => {
        const list = await pods();
        return list.length === 10 && list.every(isReady);
      },
      { description: '10 Ready pods', timeoutMs: 90_000 },
    );
    const wait = await kubectl([
      'wait',
      '-n',
      namespace,
      'modulerollout/biz1-r1',
      '--for=condition=Completed',
      '--timeout=60s',
    ]);
    expect(wait.stdout).toContain('condition met');
    const rollout = await rolloutsApi(harness.kc, namespace).get('biz1-r1');
    expect(rollout?.status).toMatchObject({ kind: 'first-install', plan: [10], phase: 'Completed' });
  });

  it('rolls 0.0.2 out in batches 1, 5, 4, holding for a confirmation before each, never switching more bases than released', async () => {
    const api = rolloutsApi(harness.kc, namespace);
    const from = Date.now();
    await kubectl(['apply', '-n', namespace, '-f', '-'], {
      stdin: toYaml(setModuleVersion(structuredClone(manifest), 'biz1', '0.0.2')),
    });
    const switched = () =>
      bases.filter((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).includes('0.0.2')).length;

    for (const [batch, target] of [
      [1, 1],
      [2, 6],
    ] as const) {
      const holding = await waitFor(
        async () => {
          const rollout = await api.get('biz1-r2');
          return rollout?.status?.phase === 'Holding' && rollout.status.hold?.batch === batch + 1
            ? rollout
            : undefined;
        },
        { description: `holding before batch ${batch + 1}`, timeoutMs: 90_000 },
      );
      expect(holding.status?.plan).toEqual([1, 6, 10]);
      expect(holding.status?.hold?.reason).toBe('AwaitingConfirmation');
      expect(switched()).toBe(target);
      // Pods beyond the batch are Pending with a visible hold (once kmc has seen them bound).
      await waitFor(
        async () => {
          const waiting = (await pods()).filter(
            (p) => versionOf(p) === '0.0.2' && p.spec?.nodeName && !isReady(p),
          );
          if (
            waiting.length > 0 &&
            waiting.every((p) => held(p)?.reason === 'AwaitingConfirmation' && p.status?.phase === 'Pending')
          )
            return true;
          // Thrown (not returned) so a timeout says what the pods showed.
          throw new Error(
            waiting
              .map(
                (p) => `${p.metadata?.name ?? ''}: ${p.status?.phase ?? ''} ${held(p)?.reason ?? 'no hold'}`,
              )
              .join('; ') || 'no bound 0.0.2 pod waits',
          );
        },
        { description: 'the pods beyond the batch held, awaiting confirmation', timeoutMs: 30_000 },
      );
      // A lower confirmation does nothing.
      await api.patchSpec('biz1-r2', { confirmedBatch: batch });
      const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'reason=RolloutHolding' });
      expect(events.items.length).toBeGreaterThanOrEqual(batch);
      expect(switched()).toBe(target);
      await api.patchSpec('biz1-r2', { confirmedBatch: batch + 1 });
    }
    await kubectl([
      'wait',
      '-n',
      namespace,
      'modulerollout/biz1-r2',
      '--for=condition=Completed',
      '--timeout=120s',
    ]);
    await waitFor(() => switched() === 10, { description: 'all bases on 0.0.2', timeoutMs: 30_000 });
    const to = Date.now();
    for (const base of bases) expect(base.timeline.activationGaps('biz1', from, to)).toEqual([]);

    // At no instant more bases switched than the batches released by then, and no more uninstalls per batch
    // than its size.
    const done = await api.get('biz1-r2');
    const starts = (done?.status?.batches ?? []).map((b) => ({
      target: b.target,
      at: Date.parse(b.startedAt ?? ''),
    }));
    expect(starts.map((b) => b.target)).toEqual([1, 6, 10]);
    const activations = bases
      .map((b) => b.timeline.firstActivatedAt('biz1', '0.0.2') ?? Infinity)
      .sort((a, b) => a - b);
    activations.forEach((at, i) => {
      const released = starts.filter((b) => b.at <= at).at(-1)?.target ?? 0;
      expect(i + 1).toBeLessThanOrEqual(released);
    });
    const uninstalls = bases
      .flatMap((b) => b.timeline.received())
      .filter((m) => m.kind === 'uninstallBiz' && m.at >= from)
      .map((m) => m.at);
    starts.forEach((batch, i) => {
      const end = starts[i + 1]?.at ?? Infinity;
      const inBatch = uninstalls.filter((at) => at >= batch.at && at < end).length;
      expect(inBatch).toBeLessThanOrEqual(batch.target - (starts[i - 1]?.target ?? 0));
    });
  });
});
