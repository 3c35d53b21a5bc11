import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import type { ActivationMode } from '../../core/sim/sim-config.ts';
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

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const versionOf = (pod: V1Pod) => pod.spec?.containers[0]?.env?.find((e) => e.name === 'BIZ_VERSION')?.value;

/** A namespace, 3 bases of one activation mode, and the example Deployment at 0.0.1 Running on them. */
async function releasedOn(mode: ActivationMode, cleanup: (() => Promise<void>)[]) {
  const harness = await KmcHarness.start();
  const core = harness.kc.makeApiClient(CoreV1Api);
  const namespace = harness.namespace;
  cleanup.push(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await harness.close();
  });
  const baseName = `base-${harness.env}`;
  const bases: SimulatedBase[] = [];
  for (let i = 0; i < 3; i += 1)
    bases.push(await harness.base({ name: baseName, activationMode: mode, installLatencyMs: 300 }));
  const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
  const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items;
  const apply = (workload: ModuleWorkload) =>
    kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(workload) });
  const settled = (version: string) =>
    waitFor(
      async () => {
        const list = await pods();
        return list.length === 3 && list.every((pod) => isReady(pod) && versionOf(pod) === version)
          ? list
          : undefined;
      },
      { description: `3 Ready pods at ${version}`, timeoutMs: 120_000 },
    );
  await apply(manifest);
  await settled('0.0.1');
  return { harness, core, namespace, bases, manifest, pods, apply, settled };
}

describe('lossless module updates through the Deployment', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it.each(['multi-version', 'switch'] as const)(
    'with %s bases: every base keeps an ACTIVATED biz1 through an update and an undo, and ends on the target',
    async (mode) => {
      const { namespace, bases, manifest, apply, settled } = await releasedOn(mode, cleanup);
      const from = Date.now();
      await apply(setModuleVersion(structuredClone(manifest), 'biz1', '0.0.2'));
      await settled('0.0.2');
      await waitFor(
        () => bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.2'),
        {
          description: 'every base on 0.0.2 only',
          timeoutMs: 30_000,
        },
      );
      await kubectl(['rollout', 'undo', '-n', namespace, 'deployment/biz1']);
      await settled('0.0.1');
      await waitFor(
        () => bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.1'),
        {
          description: 'every base back on 0.0.1 only',
          timeoutMs: 30_000,
        },
      );
      const to = Date.now();
      for (const base of bases) expect(base.timeline.activationGaps('biz1', from, to)).toEqual([]);
    },
  );

  it('with bases that install the new version deactivated: each base updates uninstall-first, with an Event', async () => {
    const { harness, core, namespace, bases, manifest, apply, settled } = await releasedOn(
      'install-deactivated',
      cleanup,
    );
    await apply(setModuleVersion(structuredClone(manifest), 'biz1', '0.0.2'));
    await settled('0.0.2');
    await waitFor(
      () => bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.2'),
      {
        description: 'every base on 0.0.2 only',
        timeoutMs: 30_000,
      },
    );
    for (const base of bases) {
      // Uninstall-first: 0.0.1 left before 0.0.2 was activated.
      const gone =
        base.timeline.bizChanges().find((c) => c.bizVersion === '0.0.1' && c.to === undefined)?.at ??
        Infinity;
      const activated = base.timeline
        .bizChanges()
        .filter((c) => c.bizVersion === '0.0.2' && c.to === 'ACTIVATED')
        .at(-1)?.at;
      expect(activated).toBeGreaterThanOrEqual(gone);
      const events = await core.listNamespacedEvent({
        namespace: 'default',
        fieldSelector: `involvedObject.name=${harness.nodeName(base)}`,
      });
      expect(events.items.map((e) => e.reason)).toContain('UninstallFirst');
    }
    const podEvents = await core.listNamespacedEvent({ namespace, fieldSelector: 'reason=UninstallFirst' });
    expect(podEvents.items.length).toBeGreaterThan(0);
  });

  it('replaces every pod on kubectl rollout restart and on an affinity-only edit with zero installs and uninstalls', async () => {
    const { namespace, bases, manifest, pods, apply, settled } = await releasedOn('multi-version', cleanup);
    const commands = () =>
      bases
        .flatMap((b) => b.timeline.received())
        .filter((m) => m.kind === 'installBiz' || m.kind === 'uninstallBiz').length;
    const before = commands();
    const original = new Set((await pods()).map((p) => p.metadata?.uid));
    await kubectl(['rollout', 'restart', '-n', namespace, 'deployment/biz1']);
    await waitFor(
      async () => {
        const list = await pods();
        return list.length === 3 && list.every((p) => isReady(p) && !original.has(p.metadata?.uid));
      },
      { description: 'every pod replaced and Ready', timeoutMs: 90_000 },
    );
    const restarted = new Set((await pods()).map((p) => p.metadata?.uid));
    const edited = structuredClone(manifest);
    const terms =
      edited.spec.template.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
        ?.nodeSelectorTerms;
    terms?.[0]?.matchExpressions?.push({
      key: 'base.koupleless.io/cluster-name',
      operator: 'In',
      values: ['default'],
    });
    await apply(edited);
    await waitFor(
      async () => {
        const list = await pods();
        return list.length === 3 && list.every((p) => isReady(p) && !restarted.has(p.metadata?.uid));
      },
      { description: 'every pod replaced again and Ready', timeoutMs: 90_000 },
    );
    await settled('0.0.1');
    expect(commands()).toBe(before);
  });
});
