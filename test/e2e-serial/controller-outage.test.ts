import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import { exampleManifest, selectBases, toYaml, type ModuleWorkload } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

/**
 * kmc is down for longer than the node-monitor grace (30 s) plus the pods' toleration (30 s) while every base
 * stays alive: Kubernetes declares the nodes unreachable and evicts the pods. The modules must survive that —
 * the evictions happened while the bases were alive — and the replacements adopt them when kmc returns.
 */
describe('controller outage longer than node grace + toleration', () => {
  let harness: KmcHarness;
  let namespace: string;
  afterAll(async () => {
    await harness.kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
    await harness.close();
  });

  it('evicts the pods but uninstalls nothing; on return the replacements adopt the retained instances', async () => {
    harness = await KmcHarness.start();
    const core = harness.kc.makeApiClient(CoreV1Api);
    namespace = harness.namespace;
    const baseName = `base-${harness.env}`;
    const bases = [await harness.base({ name: baseName }), await harness.base({ name: baseName })];
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 2;
    await kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(manifest) });
    const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items;
    const original = await waitFor(
      async () => {
        const list = await pods();
        return list.length === 2 && list.every(isReady) ? list : undefined;
      },
      { description: '2 Ready pods', timeoutMs: 60_000 },
    );
    const commands = (kind: string) =>
      bases.flatMap((b) => b.timeline.received()).filter((m) => m.kind === kind).length;
    const installs = commands('installBiz');

    await harness.stopKmc();
    const stoppedAt = Date.now();
    const evicted = await waitFor(
      async () => {
        const list = await pods();
        const gone = original.map((o) => list.find((p) => p.metadata?.uid === o.metadata?.uid));
        return gone.every((p) => p?.metadata?.deletionTimestamp) ? gone : undefined;
      },
      { description: 'the original pods evicted', timeoutMs: 150_000, intervalMs: 1_000 },
    );
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(30_000);
    for (const pod of evicted) {
      expect(pod?.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.status).toBe('True');
    }

    await harness.startKmc();
    await waitFor(
      async () => {
        const list = await pods();
        return (
          list.length === 2 &&
          list.every((p) => isReady(p) && !original.some((o) => o.metadata?.uid === p.metadata?.uid))
        );
      },
      { description: 'two Ready replacements', timeoutMs: 120_000 },
    );
    expect(commands('uninstallBiz')).toBe(0);
    expect(commands('installBiz')).toBe(installs);
    const to = Date.now();
    for (const base of bases) expect(base.timeline.activationGaps('biz1', stoppedAt, to)).toEqual([]);
  });
});
