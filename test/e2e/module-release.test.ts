import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import {
  exampleManifest,
  renameModule,
  selectBases,
  toYaml,
  type ModuleWorkload,
} from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

/**
 * The module-operation docs' flow with the corrected example Deployment: release, query per base, scale,
 * install failure, take offline — with real kubectl, the real scheduler and simulated bases.
 */
describe('module release with the corrected example Deployment', () => {
  let harness: KmcHarness;
  let core: CoreV1Api;
  let namespace: string;
  let baseName: string;
  let bases: SimulatedBase[];
  let other: SimulatedBase;
  let manifest: ModuleWorkload;

  const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items;
  const apply = async (workload: ModuleWorkload) =>
    kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(workload) });

  beforeAll(async () => {
    harness = await KmcHarness.start();
    core = harness.kc.makeApiClient(CoreV1Api);
    namespace = harness.namespace;
    baseName = `base-${harness.env}`;
    bases = [];
    for (let i = 0; i < 3; i += 1) {
      bases.push(
        await harness.base({
          name: baseName,
          version: '1.0.0',
          localIP: `10.77.${i}.${Math.floor(Math.random() * 200) + 10}`,
          installLatencyMs: 200,
          failingInstalls:
            i === 2 ? [{ bizName: 'biz2', message: 'ClassNotFoundException: com.example.Missing' }] : [],
        }),
      );
    }
    // Same base name, another base version: the example's node affinity must keep it out.
    other = await harness.base({ name: baseName, version: '2.0.0', localIP: '10.77.9.9' });
    manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
  });

  afterAll(async () => {
    await harness.close();
  });

  it('runs one Ready pod on each matching base and none on the base of another version', async () => {
    const applied = await apply(manifest);
    expect(applied.stdout).toContain('deployment.apps/biz1 created');
    const running = await waitFor(
      async () => {
        const list = await pods();
        return list.length === 3 && list.every((pod) => pod.status?.phase === 'Running' && isReady(pod))
          ? list
          : undefined;
      },
      { description: '3 Running and Ready pods', timeoutMs: 60_000 },
    );
    const nodes = running.map((pod) => pod.spec?.nodeName).sort();
    expect(nodes).toEqual(bases.map((base) => harness.nodeName(base)).sort());
    expect(nodes).not.toContain(harness.nodeName(other));
    for (const base of bases) {
      expect(base.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.1']);
    }
    expect(other.modules()).toEqual([]);
    for (const pod of running) {
      const base = bases.find((b) => harness.nodeName(b) === pod.spec?.nodeName);
      expect(pod.status?.podIP).toBe(base?.localIP);
      expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    }
  });

  it('finds the pod of a base by node name and by pod IP with kubectl field selectors', async () => {
    const base = bases[0];
    if (!base) throw new Error('no base');
    const byNode = await kubectl([
      'get',
      'pod',
      '-n',
      namespace,
      '--field-selector',
      `spec.nodeName=${harness.nodeName(base)}`,
      '-o',
      'name',
    ]);
    const byIp = await kubectl([
      'get',
      'pod',
      '-n',
      namespace,
      '--field-selector',
      `status.podIP=${base.localIP}`,
      '-o',
      'name',
    ]);
    const expected = (await pods()).find((pod) => pod.spec?.nodeName === harness.nodeName(base))?.metadata
      ?.name;
    expect(byNode.stdout.trim()).toBe(`pod/${expected ?? ''}`);
    expect(byIp.stdout.trim()).toBe(`pod/${expected ?? ''}`);
  });

  it('scales 3 → 5 with 3 bases to 3 Running and 2 Pending (FailedScheduling), and back to 3', async () => {
    const scaledAt = Date.now();
    await kubectl(['scale', '-n', namespace, 'deployment/biz1', '--replicas=5']);
    const pending = await waitFor(
      async () => {
        const list = await pods();
        const waiting = list.filter((pod) => pod.status?.phase === 'Pending' && !pod.spec?.nodeName);
        return list.length === 5 && waiting.length === 2 ? waiting : undefined;
      },
      { description: '2 Pending pods', timeoutMs: 30_000 },
    );
    await waitFor(
      async () => {
        const events = await core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.name=${pending[0]?.metadata?.name ?? ''}`,
        });
        return events.items.some((event) => event.reason === 'FailedScheduling');
      },
      { description: 'a FailedScheduling event', timeoutMs: 30_000 },
    );
    expect((await pods()).filter((pod) => isReady(pod))).toHaveLength(3);
    await kubectl(['scale', '-n', namespace, 'deployment/biz1', '--replicas=3']);
    await waitFor(async () => (await pods()).length === 3, {
      description: 'back to 3 pods',
      timeoutMs: 30_000,
    });
    expect((await pods()).every((pod) => isReady(pod))).toBe(true);
    // The module never left the bases.
    for (const base of bases) expect(base.timeline.alwaysActivated('biz1', scaledAt, Date.now())).toBe(true);
  });

  it('shows an install failure of one base on its pod (describe, Event) and leaves the other bases alone', async () => {
    const failing = bases[2];
    if (!failing) throw new Error('no base');
    // A second module, biz2, whose install fails on one base only.
    await apply(renameModule(manifest, 'biz2'));
    const biz2Pods = async () =>
      (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz2' })).items;
    const broken = await waitFor(
      async () =>
        (await biz2Pods()).find(
          (pod) =>
            pod.spec?.nodeName === harness.nodeName(failing) &&
            pod.status?.containerStatuses?.[0]?.state?.waiting?.message?.includes('ClassNotFoundException'),
        ),
      { description: 'the failing base pod shows the failure', timeoutMs: 60_000 },
    );
    const describe = await kubectl(['describe', 'pod', '-n', namespace, broken.metadata?.name ?? '']);
    expect(describe.stdout).toContain('ClassNotFoundException: com.example.Missing');
    expect(describe.stdout).toMatch(/InstallFailed/);
    expect(isReady(broken)).toBe(false);
    await waitFor(async () => (await biz2Pods()).filter((pod) => isReady(pod)).length === 2, {
      description: 'biz2 Ready on the two other bases',
      timeoutMs: 60_000,
    });
    // biz1 is untouched everywhere, the failing base included.
    expect((await pods()).every((pod) => isReady(pod))).toBe(true);
    for (const base of bases)
      expect(base.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.1']);
    await kubectl(['delete', '-n', namespace, 'deployment/biz2']);
    await waitFor(async () => (await biz2Pods()).length === 0, {
      description: 'biz2 pods gone',
      timeoutMs: 60_000,
    });
  });

  it('uninstalls the module from every base when the Deployment is deleted, and the pods go', async () => {
    await kubectl(['delete', '-n', namespace, 'deployment/biz1']);
    await waitFor(async () => (await pods()).length === 0, { description: 'pods gone', timeoutMs: 60_000 });
    await waitFor(() => bases.every((base) => !base.modules().some((m) => m.bizName === 'biz1')), {
      description: 'biz1 uninstalled from every base',
      timeoutMs: 30_000,
    });
  });
});
