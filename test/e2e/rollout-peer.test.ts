import { AppsV1Api, CoreV1Api, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { PeerReplicaSyncerPlugin } from '../../plugins/peer-replica-syncer-plugin.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import {
  exampleManifest,
  selectBases,
  setModuleVersion,
  toYaml,
  type ModuleWorkload,
} from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { recordWatch, type WatchRecorder } from '../support/watch-recorder.ts';
import { isReady, versionOf } from '../support/pods.ts';

const PEER_LABEL = 'module-controller.koupleless.io/strategy';

/**
 * A kmc with the peer replica syncer, and a recording of biz1's Deployment from before its first apply: every
 * spec.replicas it ever had, in order.
 */
async function peerWorld(cleanup: (() => Promise<void>)[]) {
  const harness = await KmcHarness.start({ plugins: [new PeerReplicaSyncerPlugin({ resyncSeconds: 30 })] });
  cleanup.push(() => harness.close());
  const { namespace, kc } = harness;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const selector = 'metadata.name=biz1';
  const recorder: WatchRecorder<V1Deployment> = await recordWatch(
    kc,
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    () => apps.listNamespacedDeployment({ namespace, fieldSelector: selector }),
    selector,
  );
  cleanup.push(() => recorder.stop());
  const baseName = `base-${harness.env}`;

  /** The corrected example Deployment, made a peer Deployment of this test's bases of `baseVersion`. */
  const manifest = async (baseVersion: string, replicas: number) => {
    const peer = selectBases(
      await exampleManifest<ModuleWorkload>('module-deployment.yaml'),
      baseName,
      baseVersion,
    );
    peer.metadata.labels = { ...peer.metadata.labels, [PEER_LABEL]: 'peer' };
    peer.spec.replicas = replicas;
    return peer;
  };
  const apply = (workload: ModuleWorkload) =>
    kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(workload) });
  const replicas = async () =>
    (await apps.readNamespacedDeployment({ name: 'biz1', namespace })).spec?.replicas;
  const pods = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
  /** The replicas the Deployment had, each change once, in order. */
  const history = () =>
    recorder.versions.map((d) => d.spec?.replicas).filter((n, i, all) => n !== undefined && n !== all[i - 1]);
  const syncedEvents = async () =>
    (
      await core.listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=biz1,reason=PeerReplicasSynced',
      })
    ).items.map((e) => e.message ?? '');

  const waitReplicas = (want: number, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const have = await replicas();
        if (have === want) return true;
        throw new Error(`spec.replicas ${String(have)}`);
      },
      { description: `spec.replicas ${String(want)}`, timeoutMs },
    );
  const waitSynced = (pattern: RegExp) =>
    waitFor(
      async () => {
        const messages = await syncedEvents();
        if (messages.some((m) => pattern.test(m))) return true;
        throw new Error(`events: ${messages.join(' | ') || 'none'}`);
      },
      { description: `a PeerReplicasSynced Event matching ${String(pattern)}`, timeoutMs: 30_000 },
    );
  const nodeReady = (base: SimulatedBase, status: 'True' | 'False') =>
    waitFor(
      async () =>
        (await core.readNode({ name: harness.nodeName(base) })).status?.conditions?.find(
          (c) => c.type === 'Ready',
        )?.status === status,
      { description: `${harness.nodeName(base)} Ready=${status}`, timeoutMs: 30_000 },
    );
  /**
   * Ready pods at `version`, exactly one on each of `bases` and none elsewhere; with `only`, no pods of other
   * versions either.
   */
  const runningOn = (bases: readonly SimulatedBase[], version: string, only: boolean, timeoutMs = 90_000) =>
    waitFor(
      async () => {
        const all = await pods();
        const list = all.filter((p) => versionOf(p) === version);
        const nodes = list.map((p) => p.spec?.nodeName).sort();
        const want = bases.map((b) => harness.nodeName(b)).sort();
        if (
          list.every(isReady) &&
          JSON.stringify(nodes) === JSON.stringify(want) &&
          (!only || all.length === list.length)
        )
          return list;
        throw new Error(
          all
            .map(
              (p) =>
                `${p.metadata?.name ?? ''}@${p.spec?.nodeName ?? 'unscheduled'} ${versionOf(p) ?? ''} ${isReady(p) ? 'Ready' : (p.status?.phase ?? '')}`,
            )
            .join('; ') || 'no pods',
        );
      },
      { description: `Ready pods at ${version} on exactly ${String(bases.length)} bases`, timeoutMs },
    );
  return {
    harness,
    baseName,
    manifest,
    apply,
    replicas,
    history,
    waitReplicas,
    waitSynced,
    nodeReady,
    runningOn,
  };
}

describe('peer Deployments: replicas follow the matching Ready bases', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('replicas follow the matching Ready bases 0 → 3 → 2, one pod per base; bases of another version or name never count', async () => {
    const world = await peerWorld(cleanup);
    const { harness, baseName } = world;
    // Bases that must never count: the right name at another version, another name at the right version.
    const strangers = [
      await harness.base({ name: baseName, version: '9.9.9' }),
      await harness.base({ name: `other-${harness.env}` }),
    ];
    for (const base of strangers) await world.nodeReady(base, 'True');

    await world.apply(await world.manifest('1.0.0', 1));
    await world.waitReplicas(0);
    await world.waitSynced(/^replicas 1 → 0:/);

    const matching: SimulatedBase[] = [];
    for (let i = 0; i < 3; i += 1)
      matching.push(await harness.base({ name: baseName, installLatencyMs: 300 }));
    await world.waitReplicas(3);
    await world.waitSynced(/→ 3:/);
    await world.runningOn(matching, '0.0.1', true);

    const [lost, ...kept] = matching;
    if (!lost) throw new Error('no base to lose');
    const from = Date.now();
    await lost.stop();
    await world.nodeReady(lost, 'False');
    await world.waitReplicas(2);
    await world.waitSynced(/^replicas 3 → 2:/);
    await world.runningOn(kept, '0.0.1', true);
    // Scaling down for the lost base took the pod of the lost base, not one of a live base.
    for (const base of kept) {
      expect(base.timeline.activationGaps('biz1', from, Date.now())).toEqual([]);
      expect(base.timeline.received('uninstallBiz')).toEqual([]);
    }

    const history = world.history();
    expect(history.slice(0, 2)).toEqual([1, 0]);
    expect(history.at(-1)).toBe(2);
    // Growing, the count only rose (bases came one by one); then it fell by the lost base alone.
    const growth = history.slice(1, -1);
    expect(growth).toEqual([...growth].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(growth.at(-1)).toBe(3);
    expect(Math.max(...history.map((n) => n ?? 0))).toBe(3);
  });

  it('an incompatible release (the new template needs base 2.0.0) never scales the old version to zero, and moves to the new bases once they exist', async () => {
    const world = await peerWorld(cleanup);
    const { harness, baseName } = world;
    const old: SimulatedBase[] = [];
    for (let i = 0; i < 3; i += 1) old.push(await harness.base({ name: baseName, installLatencyMs: 300 }));
    const v1 = await world.manifest('1.0.0', 3);
    await world.apply(v1);
    await world.runningOn(old, '0.0.1', true);
    // The release is measured from here. Before it, the count followed the old bases' nodes as kmc saw them come
    // up, which may be one at a time (the bases start before their nodes are Ready).
    const atRelease = world.history().length - 1;

    // The module-operation docs' incompatible release: biz1 0.0.2 only runs on bases of version 2.0.0.
    const from = Date.now();
    const v2 = selectBases(setModuleVersion(structuredClone(v1), 'biz1', '0.0.2'), baseName, '2.0.0');
    await world.apply(v2);
    // The release is stuck: its pod cannot be scheduled anywhere.
    await waitFor(
      async () => {
        const list = await world.harness.kc
          .makeApiClient(CoreV1Api)
          .listNamespacedPod({ namespace: harness.namespace, labelSelector: 'app=biz1' });
        return list.items.some(
          (p) =>
            versionOf(p) === '0.0.2' &&
            p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'),
        );
      },
      { description: 'a 0.0.2 pod the scheduler cannot place', timeoutMs: 60_000 },
    );
    expect(await world.replicas()).toBe(3);
    await world.runningOn(old, '0.0.1', false);

    const fresh: SimulatedBase[] = [];
    for (let i = 0; i < 3; i += 1)
      fresh.push(await harness.base({ name: baseName, version: '2.0.0', installLatencyMs: 300 }));
    // Until the new bases serve 0.0.2, the old ones keep 0.0.1.
    await waitFor(
      () => fresh.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).includes('0.0.2')),
      { description: '0.0.2 ACTIVATED on the new bases', timeoutMs: 90_000 },
    );
    const stoppedAt = Date.now();
    for (const base of old) {
      expect(base.timeline.activationGaps('biz1', from, stoppedAt)).toEqual([]);
      expect(base.timeline.activatedVersionsAt('biz1', stoppedAt)).toContain('0.0.1');
    }
    for (const base of old) await base.stop();

    await world.waitReplicas(3, 90_000);
    await world.runningOn(fresh, '0.0.2', true, 120_000);
    expect(await world.replicas()).toBe(3);
    const history = world
      .history()
      .slice(atRelease)
      .map((n) => n ?? 0);
    expect(history[0]).toBe(3);
    // Never below the bases that serve: not 0, not even 2. While both kinds of base were up, old ∪ new counted.
    expect(Math.min(...history)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...history)).toBe(6);
  });
});
