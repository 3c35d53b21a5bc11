import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import { exampleManifest, selectBases, toYaml, type ModuleWorkload } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

describe('kubectl drain of a VNode', () => {
  let harness: KmcHarness;
  let namespace: string;
  afterAll(async () => {
    await harness.kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
    await harness.close();
  });

  it('keeps each workload’s module serving on the drained base until its replacement is Ready elsewhere', async () => {
    harness = await KmcHarness.start();
    const core = harness.kc.makeApiClient(CoreV1Api);
    namespace = harness.namespace;
    const baseName = `base-${harness.env}`;
    const bases = [
      await harness.base({ name: baseName }),
      await harness.base({ name: baseName }),
      await harness.base({ name: baseName, installLatencyMs: 1_500 }),
    ];
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 2;
    await kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(manifest) });
    const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items;
    const running = await waitFor(
      async () => {
        const list = await pods();
        return list.length === 2 && list.every(isReady) ? list : undefined;
      },
      { description: '2 Ready pods', timeoutMs: 60_000 },
    );
    const drainedNode = running[0]?.spec?.nodeName ?? '';
    const drained = bases.find((b) => harness.nodeName(b) === drainedNode);
    const free = bases.find((b) => !running.some((p) => p.spec?.nodeName === harness.nodeName(b)));
    if (!drained || !free) throw new Error('unexpected placement');

    const drainedAt = Date.now();
    const result = await kubectl(['drain', drainedNode, '--ignore-daemonsets', '--timeout=90s']);
    expect(result.stdout).toContain('drained');
    const replacement = await waitFor(
      async () => (await pods()).find((p) => p.spec?.nodeName === harness.nodeName(free) && isReady(p)),
      { description: 'a Ready replacement on the free base', timeoutMs: 60_000 },
    );
    await waitFor(() => !drained.modules().some((m) => m.bizName === 'biz1'), {
      description: 'biz1 uninstalled from the drained base once the replacement serves',
      timeoutMs: 30_000,
    });
    const readyAt = free.timeline.firstActivatedAt('biz1', '0.0.1') ?? Infinity;
    const removedAt =
      drained.timeline
        .bizChanges()
        .find((c) => c.bizName === 'biz1' && c.at >= drainedAt && c.to !== 'ACTIVATED')?.at ?? -Infinity;
    // The drained base kept serving until the replacement was ACTIVATED elsewhere.
    expect(removedAt).toBeGreaterThanOrEqual(readyAt);
    expect(replacement.spec?.nodeName).toBe(harness.nodeName(free));
    const node = await core.readNode({ name: drainedNode });
    expect(node.spec?.unschedulable).toBe(true);
  });
});
