import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { BizDeactivatePlugin } from '../../plugins/biz-deactivate-plugin.ts';
import { KmcHarness, type KmcHarnessOptions } from '../support/kmc-harness.ts';
import { kubectl } from '../support/kube.ts';
import { exampleManifest, selectBases, toYaml, type ModuleWorkload } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

describe('module pods: several modules, invalid images, BizDeactivate', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  async function world(options: KmcHarnessOptions = {}) {
    const harness = await KmcHarness.start(options);
    const core = harness.kc.makeApiClient(CoreV1Api);
    const namespace = harness.namespace;
    cleanup.push(async () => {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await harness.close();
    });
    const baseName = `base-${harness.env}`;
    const apply = (workload: unknown) =>
      kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(workload) });
    const pod = (name: string) => core.readNamespacedPod({ name, namespace });
    return { harness, core, namespace, baseName, apply, pod };
  }
  const bare = async (file: string, baseName: string) =>
    selectBases(await exampleManifest<ModuleWorkload>(file), baseName) as unknown as {
      metadata: { name: string };
      spec: { containers: { name: string; image: string; env: { name: string; value: string }[] }[] };
    };

  it('a pod with two modules is Ready only when both are ACTIVATED; a failing one keeps it NotReady with its reason', async () => {
    const { harness, baseName, apply, pod } = await world();
    await harness.base({
      name: baseName,
      installLatencyMs: ({ bizName }) => (bizName === 'biz2' ? 1_500 : 100),
      failingInstalls: [{ bizName: 'biz2', bizVersion: '0.0.9', message: 'NoSuchMethodError in biz2' }],
    });
    const manifest = await bare('multi-module-pod.yaml', baseName);
    await apply(manifest);
    // biz1 is up long before biz2: the pod must not be Ready in between.
    const partial = await waitFor(
      async () => {
        const current = await pod('biz1-biz2');
        const states = current.status?.containerStatuses ?? [];
        return states.find((c) => c.name === 'biz1')?.state?.running ? current : undefined;
      },
      { description: 'biz1 running', timeoutMs: 30_000 },
    );
    if (partial.status?.containerStatuses?.find((c) => c.name === 'biz2')?.state?.running === undefined) {
      expect(isReady(partial)).toBe(false);
    }
    await waitFor(async () => isReady(await pod('biz1-biz2')), {
      description: 'Ready with both modules',
      timeoutMs: 30_000,
    });

    const failing = structuredClone(manifest);
    failing.metadata.name = 'biz1-biz2-bad';
    const second = failing.spec.containers[1];
    if (second) {
      second.image = 'https://example.invalid/biz2-0.0.9-ark-biz.jar';
      second.env = [{ name: 'BIZ_VERSION', value: '0.0.9' }];
    }
    const first = failing.spec.containers[0];
    if (first) {
      first.name = 'biz3';
      first.image = 'https://example.invalid/biz3-0.0.1-ark-biz.jar';
    }
    await apply(failing);
    const broken = await waitFor(
      async () => {
        const current = await pod('biz1-biz2-bad');
        const biz2 = current.status?.containerStatuses?.find((c) => c.name === 'biz2');
        const biz3 = current.status?.containerStatuses?.find((c) => c.name === 'biz3');
        return biz2?.state?.waiting?.message?.includes('NoSuchMethodError') && biz3?.state?.running
          ? current
          : undefined;
      },
      { description: 'biz2 failed, biz3 running', timeoutMs: 30_000 },
    );
    expect(isReady(broken)).toBe(false);
    expect(broken.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('InstallFailed');
  });

  it('a container whose image is not a jar URL: InvalidModuleImage, an Event, no install, never Ready', async () => {
    const { harness, core, namespace, baseName, apply, pod } = await world();
    const base = await harness.base({ name: baseName });
    const manifest = await bare('module-pod.yaml', baseName);
    const container = manifest.spec.containers[0];
    if (container) container.image = 'registry.example/biz1:0.0.1';
    await apply(manifest);
    const current = await waitFor(
      async () => {
        const p = await pod('biz1');
        return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'InvalidModuleImage'
          ? p
          : undefined;
      },
      { description: 'InvalidModuleImage shown', timeoutMs: 30_000 },
    );
    expect(isReady(current)).toBe(false);
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=biz1' });
    expect(events.items.some((e) => e.reason === 'InvalidModuleImage')).toBe(true);
    expect(base.timeline.received().filter((m) => m.kind === 'installBiz')).toEqual([]);
  });

  it('biz-deactivate with failPod: the deactivated pod shows BizDeactivate, goes Failed and is removed', async () => {
    const { harness, core, namespace, baseName, apply, pod } = await world({
      plugins: [new BizDeactivatePlugin({ failPod: true })],
    });
    const base = await harness.base({ name: baseName, activationMode: 'switch' });
    const v1 = await bare('module-pod.yaml', baseName);
    v1.metadata.name = 'biz1-v1';
    await apply(v1);
    await waitFor(async () => isReady(await pod('biz1-v1')), { description: 'v1 Ready', timeoutMs: 30_000 });
    const v2 = structuredClone(v1);
    v2.metadata.name = 'biz1-v2';
    const container = v2.spec.containers[0];
    if (container) {
      container.image = 'https://example.invalid/biz1-0.0.2-ark-biz.jar';
      container.env = [{ name: 'BIZ_VERSION', value: '0.0.2' }];
    }
    await apply(v2);
    await waitFor(async () => isReady(await pod('biz1-v2')), { description: 'v2 Ready', timeoutMs: 30_000 });
    // v1 was deactivated by the switch: Failed, then removed by kmc, and its module uninstalled.
    await waitFor(async () => !(await pod('biz1-v1').catch(() => undefined)), {
      description: 'v1 pod removed',
      timeoutMs: 30_000,
    });
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.name=biz1-v1',
    });
    expect(events.items.map((e) => e.reason)).toContain('FailedPodRemoved');
    await waitFor(() => base.modules().every((m) => m.bizVersion !== '0.0.1'), {
      description: 'the deactivated 0.0.1 uninstalled',
      timeoutMs: 30_000,
    });
    expect(base.timeline.activatedVersionsAt('biz1', Date.now())).toEqual(['0.0.2']);
  });

  it('biz-deactivate without failPod: status.reason BizDeactivate, the pod stays', async () => {
    const { harness, baseName, apply, pod } = await world({
      plugins: [new BizDeactivatePlugin({ failPod: false })],
    });
    await harness.base({ name: baseName, activationMode: 'switch' });
    const v1 = await bare('module-pod.yaml', baseName);
    v1.metadata.name = 'keep-v1';
    await apply(v1);
    await waitFor(async () => isReady(await pod('keep-v1')), { description: 'v1 Ready', timeoutMs: 30_000 });
    const v2 = structuredClone(v1);
    v2.metadata.name = 'keep-v2';
    const container = v2.spec.containers[0];
    if (container) {
      container.image = 'https://example.invalid/biz1-0.0.2-ark-biz.jar';
      container.env = [{ name: 'BIZ_VERSION', value: '0.0.2' }];
    }
    await apply(v2);
    const old = await waitFor(
      async () => {
        const p = await pod('keep-v1');
        return p.status?.reason === 'BizDeactivate' ? p : undefined;
      },
      { description: 'v1 shows BizDeactivate', timeoutMs: 30_000 },
    );
    expect(old.status?.phase).toBe('Running');
    expect(isReady(old)).toBe(false);
    const listed = await kubectl(['get', 'pod', '-n', old.metadata?.namespace ?? '', 'keep-v1']);
    expect(listed.stdout).toContain('BizDeactivate');
  });
});
