import { CoreV1Api } from '@kubernetes/client-node';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import {
  clusterDaemonSet,
  exampleManifest,
  selectBases,
  setModuleVersion,
  toYaml,
  type ModuleWorkload,
} from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady, versionOf } from '../support/pods.ts';

describe('module workloads of every kind, and what is not a module', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  async function world() {
    const harness = await KmcHarness.start();
    const core = harness.kc.makeApiClient(CoreV1Api);
    const namespace = harness.namespace;
    cleanup.push(async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await harness.close();
    });
    const baseName = `base-${harness.env}`;
    const apply = (workload: unknown) =>
      kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(workload) });
    const pods = async (selector: string) =>
      (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
    return { harness, core, namespace, baseName, apply, pods };
  }

  it('peer DaemonSet with maxSurge 1: one pod per base, a new base gets its pod, updates install before they uninstall', async () => {
    const { harness, baseName, apply, pods } = await world();
    const bases: SimulatedBase[] = [
      await harness.base({ name: baseName }),
      await harness.base({ name: baseName }),
    ];
    const ds = selectBases(await exampleManifest<ModuleWorkload>('module-daemonset.yaml'), baseName);
    await apply(ds);
    const settled = (count: number, version: string) =>
      waitFor(
        async () => {
          const list = await pods('app=biz1-peer');
          return list.length === count && list.every((p) => isReady(p) && versionOf(p) === version);
        },
        { description: `${count} Ready DaemonSet pods at ${version}`, timeoutMs: 90_000 },
      );
    await settled(2, '0.0.1');
    bases.push(await harness.base({ name: baseName }));
    await settled(3, '0.0.1');
    expect(new Set((await pods('app=biz1-peer')).map((p) => p.spec?.nodeName)).size).toBe(3);
    const from = Date.now();
    await apply(setModuleVersion(structuredClone(ds), 'biz1', '0.0.2'));
    await settled(3, '0.0.2');
    await waitFor(
      () => bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.2'),
      {
        description: 'every base on 0.0.2',
        timeoutMs: 30_000,
      },
    );
    for (const base of bases) expect(base.timeline.activationGaps('biz1', from, Date.now())).toEqual([]);
  });

  it('StatefulSet: installs, updates uninstall-first (pods keep their names), scales', async () => {
    const { harness, baseName, apply, pods } = await world();
    const bases = [
      await harness.base({ name: baseName }),
      await harness.base({ name: baseName }),
      await harness.base({ name: baseName }),
    ];
    const sts = selectBases(await exampleManifest<ModuleWorkload>('module-statefulset.yaml'), baseName);
    await apply(sts);
    const settled = (count: number, version: string) =>
      waitFor(
        async () => {
          const list = await pods('app=biz1-sts');
          return list.length === count && list.every((p) => isReady(p) && versionOf(p) === version)
            ? list
            : undefined;
        },
        { description: `${count} Ready StatefulSet pods at ${version}`, timeoutMs: 90_000 },
      );
    const first = await settled(2, '0.0.1');
    await apply(setModuleVersion(structuredClone(sts), 'biz1', '0.0.2'));
    const updated = await settled(2, '0.0.2');
    expect(updated.map((p) => p.metadata?.name).sort()).toEqual(first.map((p) => p.metadata?.name).sort());
    expect(updated.map((p) => p.metadata?.uid)).not.toContain(first[0]?.metadata?.uid);
    await kubectl([
      'scale',
      '-n',
      updated[0]?.metadata?.namespace ?? '',
      'statefulset/biz1-sts',
      '--replicas=3',
    ]);
    await settled(3, '0.0.2');
    const onBases = bases.filter(
      (b) => b.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.2',
    );
    expect(onBases).toHaveLength(3);
  });

  it('never uninstalls a statically merged module, and uninstalls a module kmc installed whose pod vanished', async () => {
    const { harness, core, namespace, baseName, apply, pods } = await world();
    const base = await harness.base({
      name: baseName,
      staticModules: [{ bizName: 'static-biz', bizVersion: '1.0.0' }],
    });
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 1;
    await apply(manifest);
    const [pod] = await waitFor(
      async () => {
        const list = await pods('app=biz1');
        return list.length === 1 && list.every(isReady) ? list : undefined;
      },
      { description: 'biz1 Ready', timeoutMs: 60_000 },
    );
    // The pod vanishes behind kmc's back (a forced delete): the Deployment is scaled to 0 first so no replacement comes.
    await kubectl(['scale', '-n', namespace, 'deployment/biz1', '--replicas=0']);
    await core
      .deleteNamespacedPod({
        name: pod?.metadata?.name ?? '',
        namespace,
        body: { gracePeriodSeconds: 0 },
      })
      .catch(() => undefined);
    await waitFor(() => !base.modules().some((m) => m.bizName === 'biz1'), {
      description: 'biz1 uninstalled as a stray',
      timeoutMs: 30_000,
    });
    // Several polls later, the static module is still there and was never the target of an uninstall.
    const polls = () => base.timeline.received().filter((m) => m.kind === 'queryAllBiz').length;
    const seen = polls();
    await waitFor(() => polls() >= seen + 3, {
      description: 'three more inventory polls',
      timeoutMs: 30_000,
    });
    expect(base.modules().map((m) => m.bizName)).toContain('static-biz');
    const uninstalls = base.timeline
      .received()
      .filter((m) => m.kind === 'uninstallBiz')
      .map((m) => m.payload);
    expect(uninstalls.some((payload) => payload.includes('static-biz'))).toBe(false);
    expect(uninstalls.filter((payload) => payload.includes('biz1'))).toHaveLength(1);
  });

  it('gives a cluster DaemonSet that tolerates everything no install, a clear condition and one Event per pod', async () => {
    const { harness, core, namespace, apply, pods } = await world();
    const base = await harness.base();
    await waitFor(
      async () =>
        (await core.readNode({ name: harness.nodeName(base) }).catch(() => undefined)) !== undefined,
      {
        description: 'node exists',
        timeoutMs: 20_000,
      },
    );
    await apply(clusterDaemonSet(harness.nodeName(base)));
    const pod = await waitFor(
      async () =>
        (await pods('app=log-agent')).find((p) =>
          p.status?.conditions?.some((c) => c.type === 'koupleless.io/NotAModulePod' && c.status === 'True'),
        ),
      { description: 'the DaemonSet pod marked NotAModulePod', timeoutMs: 30_000 },
    );
    expect(pod.status?.phase).toBe('Pending');
    const polls = () => base.timeline.received().filter((m) => m.kind === 'queryAllBiz').length;
    const seen = polls();
    await waitFor(() => polls() >= seen + 2, { description: 'two more polls', timeoutMs: 30_000 });
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${pod.metadata?.name ?? ''}`,
    });
    expect(events.items.filter((e) => e.reason === 'NotAModulePod')).toHaveLength(1);
    expect(base.timeline.received().filter((m) => m.kind === 'installBiz')).toEqual([]);
  });

  it('incompatible release: pods needing a 2.0.0 base stay Pending until one comes online, then install', async () => {
    const { harness, baseName, apply, pods } = await world();
    await harness.base({ name: baseName, version: '1.0.0' });
    const manifest = selectBases(
      await exampleManifest<ModuleWorkload>('module-deployment.yaml'),
      baseName,
      '2.0.0',
    );
    manifest.spec.replicas = 1;
    await apply(manifest);
    await waitFor(
      async () => {
        const list = await pods('app=biz1');
        return list.length === 1 && list[0]?.status?.phase === 'Pending' && !list[0].spec?.nodeName;
      },
      { description: 'a Pending unscheduled pod', timeoutMs: 30_000 },
    );
    const newBase = await harness.base({ name: baseName, version: '2.0.0' });
    const [pod] = await waitFor(
      async () => {
        const list = await pods('app=biz1');
        return list.length === 1 && list.every(isReady) ? list : undefined;
      },
      { description: 'scheduled onto the 2.0.0 base and Ready', timeoutMs: 60_000 },
    );
    expect(pod?.spec?.nodeName).toBe(harness.nodeName(newBase));
  });

  it('keeps serving through 200 malformed, stale, oversized and unknown-base messages on every topic, and counts them', async () => {
    const { harness, baseName, apply, pods } = await world();
    const base = await harness.base({ name: baseName });
    const client = await mqtt.connectAsync(harness.broker.url);
    const kinds = [
      'heart',
      'queryBaseline',
      'health',
      'simpleBiz',
      'biz',
      'bizOperation',
      'batchInstallBizResponse',
    ];
    const bad = [
      // well-formed, but from bases nobody has heard of when sent with an unknown id
      JSON.stringify({ data: [], publishTimestamp: Date.now() }),
      '',
      '{not json',
      JSON.stringify({ data: {}, publishTimestamp: 0 }),
      JSON.stringify({ data: { code: 123 }, publishTimestamp: Date.now() }),
      'x'.repeat(2 * 1024 * 1024),
    ];
    let sent = 0;
    for (let i = 0; sent < 200; i += 1) {
      const kind = kinds[i % kinds.length] ?? 'heart';
      const payload = bad[i % bad.length] ?? '';
      const id = i % 3 === 0 ? `unknown-${i}` : base.identity;
      await client.publishAsync(`koupleless_${harness.env}/${id}/base/${kind}`, payload);
      sent += 1;
    }
    // Reaches kmc through its all-envs heartbeat probe, with a first level that is not koupleless_<env>.
    await client.publishAsync('junk/x/base/heart', 'junk');
    await client.endAsync();
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 1;
    await apply(manifest);
    await waitFor(
      async () => {
        const list = await pods('app=biz1');
        return list.length === 1 && list.every(isReady);
      },
      { description: 'a release still works', timeoutMs: 60_000 },
    );
    const dropped = await harness.kmc.metrics.registry.getSingleMetricAsString(
      'kmc_tunnel_dropped_messages_total',
    );
    for (const reason of [
      'empty',
      'unparsable',
      'stale',
      'invalid-shape',
      'oversized',
      'invalid-topic',
      'unknown-base',
    ]) {
      expect(dropped).toContain(`reason="${reason}"`);
    }
    const total = [...dropped.matchAll(/ (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(total).toBeGreaterThanOrEqual(150);
  });
});
