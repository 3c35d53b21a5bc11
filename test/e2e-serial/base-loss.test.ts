import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import { exampleManifest, selectBases, toYaml, type ModuleWorkload } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

/**
 * Bases that die, and bases that come back or are replaced. The test's VNodes sit in a zone of their own and the
 * run's sentinel node stays Ready elsewhere, so the real node-lifecycle controller taints and evicts as it would in
 * a cluster with healthy nodes.
 */
describe('base loss: real eviction and rescheduling', () => {
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

  it('a crashed base turns NotReady, its pods are evicted and rescheduled onto other bases, and it returns without a duplicate', async () => {
    const { harness, core, baseName, apply, pods } = await world();
    const bases: SimulatedBase[] = [];
    for (let i = 0; i < 3; i += 1) bases.push(await harness.base({ name: baseName }));
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 2;
    await apply(manifest);
    const running = await waitFor(
      async () => {
        const list = await pods('app=biz1');
        return list.length === 2 && list.every(isReady) ? list : undefined;
      },
      { description: '2 Ready pods', timeoutMs: 60_000 },
    );
    const victimNode = running[0]?.spec?.nodeName;
    const victim = bases.find((b) => harness.nodeName(b) === victimNode);
    if (!victim || !victimNode) throw new Error('no victim');
    await victim.crash();
    const crashedAt = Date.now();
    await waitFor(
      async () =>
        (await core.readNode({ name: victimNode })).status?.conditions?.find((c) => c.type === 'Ready')
          ?.status === 'False',
      { description: 'the crashed base NotReady', timeoutMs: 20_000 },
    );
    expect(Date.now() - crashedAt).toBeLessThan(15_000);
    // Evicted by the taint-eviction controller (30 s toleration in the example), replaced on the free base.
    const replaced = await waitFor(
      async () => {
        const list = (await pods('app=biz1')).filter((p) => !p.metadata?.deletionTimestamp);
        return list.length === 2 && list.every(isReady) && list.every((p) => p.spec?.nodeName !== victimNode)
          ? list
          : undefined;
      },
      { description: 'pods rescheduled onto the other bases and Ready', timeoutMs: 120_000 },
    );
    expect(replaced.map((p) => p.spec?.nodeName).sort()).toEqual(
      bases
        .filter((b) => b !== victim)
        .map((b) => harness.nodeName(b))
        .sort(),
    );
    await victim.start();
    await waitFor(
      async () =>
        (await core.readNode({ name: victimNode })).status?.conditions?.find((c) => c.type === 'Ready')
          ?.status === 'True',
      { description: 'the base back and Ready', timeoutMs: 30_000 },
    );
    const polls = victim.timeline.received().filter((m) => m.kind === 'queryAllBiz').length;
    await waitFor(
      () => victim.timeline.received().filter((m) => m.kind === 'queryAllBiz').length >= polls + 3,
      {
        description: 'a few polls of the returned base',
        timeoutMs: 30_000,
      },
    );
    expect(victim.modules().filter((m) => m.bizName === 'biz1')).toEqual([]);
    expect((await pods('app=biz1')).filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(2);
  });

  it('a base replaced by one with a new identity, IP and hostname: the old node NotReady, the peer pods on the new base', async () => {
    const { harness, core, baseName, apply, pods } = await world();
    const old = await harness.base({ name: baseName, localIP: '10.88.0.1', hostname: `${harness.env}-old` });
    await harness.base({ name: baseName, localIP: '10.88.0.2', hostname: `${harness.env}-other` });
    await apply(selectBases(await exampleManifest<ModuleWorkload>('module-daemonset.yaml'), baseName));
    await waitFor(
      async () => {
        const list = await pods('app=biz1-peer');
        return list.length === 2 && list.every(isReady);
      },
      { description: '2 Ready peer pods', timeoutMs: 60_000 },
    );
    // A rolled base Deployment: the old pod dies, a new one starts with everything new.
    await old.crash();
    const fresh = await harness.base({
      name: baseName,
      localIP: '10.88.0.3',
      hostname: `${harness.env}-new`,
    });
    await waitFor(
      async () =>
        (await core.readNode({ name: harness.nodeName(old) })).status?.conditions?.find(
          (c) => c.type === 'Ready',
        )?.status === 'False',
      { description: 'the old node NotReady', timeoutMs: 20_000 },
    );
    await waitFor(
      async () =>
        (await pods('app=biz1-peer')).some((p) => p.spec?.nodeName === harness.nodeName(fresh) && isReady(p)),
      { description: 'a Ready peer pod on the new base', timeoutMs: 60_000 },
    );
    expect(fresh.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.1']);
  });
});
