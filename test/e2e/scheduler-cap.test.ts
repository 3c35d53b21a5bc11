import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { SchedulerPlugin } from '../../plugins/scheduler-plugin.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { uniqueName } from '../support/kube.ts';
import {
  apply,
  barePod,
  countByNode,
  deleteDeployments,
  eventsOf,
  moduleDeployment,
  modulePods,
  schedulable,
} from '../support/scheduling.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

/**
 * The per-base module cap on the real control plane: published as allocatable pods (so the default
 * kube-scheduler keeps to it), enforced by kmc at admission (pods bound beyond it by other means are refused), and
 * the scheduler plugin's FailedScheduling when nothing fits. One harness, bases of four names with their own caps
 * (`scheduler.maxModulesPerBase` by base name, default 1); the tests run in order.
 */
describe('module cap: allocatable pods, admission, unschedulable pods', () => {
  const names = {
    one: uniqueName('one'),
    two: uniqueName('two'),
    admit: uniqueName('admit'),
    solo: uniqueName('solo'),
  };
  let harness: KmcHarness;
  let core: CoreV1Api;
  const bases = new Map<string, SimulatedBase>();

  beforeAll(async () => {
    harness = await KmcHarness.start({
      config: {
        scheduler: { maxModulesPerBase: { default: 1, byBaseName: { [names.two]: 2, [names.admit]: 2 } } },
      },
      // Retries come from pod and node changes here: the periodic retry is far beyond the test's deadlines.
      plugins: [new SchedulerPlugin(SchedulerPlugin.optionsSchema.parse({ retrySeconds: 600 }))],
    });
    core = harness.kc.makeApiClient(CoreV1Api);
    for (const [key, name] of Object.entries(names))
      bases.set(key, await harness.base({ name, installLatencyMs: 100 }));
    await schedulable(
      harness.kc,
      [...bases.values()].map((b) => harness.nodeName(b)),
    );
  });
  afterAll(async () => {
    await harness.close();
  });

  const nodeOf = (key: keyof typeof names) => {
    const base = bases.get(key);
    if (!base) throw new Error(`no base ${key}`);
    return harness.nodeName(base);
  };

  async function allocatable(key: keyof typeof names): Promise<string | undefined> {
    return waitFor(
      async () => {
        const node = await core.readNode({ name: nodeOf(key) });
        const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return ready ? node.status?.allocatable?.['pods'] : undefined;
      },
      { description: `node of base ${key} Ready`, timeoutMs: 30_000 },
    );
  }

  it('the default kube-scheduler keeps to the cap through allocatable pods, by base name', async () => {
    expect(await allocatable('one')).toBe('1');
    expect(await allocatable('two')).toBe('2');
    expect((await core.readNode({ name: nodeOf('one') })).status?.capacity?.['pods']).toBe('1');
    // Four replicas, no anti-affinity, the default scheduler: room for three.
    const deployment = await moduleDeployment('biz1', {
      baseNames: [names.one, names.two],
      replicas: 4,
      antiAffinity: false,
    });
    await apply(harness.namespace, [deployment]);
    const pending = await waitFor(
      async () => {
        const pods = await modulePods(harness.kc, harness.namespace, 'biz1');
        const ready = pods.filter(isReady);
        const waiting = pods.filter((p) => !p.spec?.nodeName);
        if (pods.length !== 4 || ready.length !== 3 || waiting.length !== 1) return undefined;
        expect(countByNode(ready, [nodeOf('one'), nodeOf('two')])).toEqual([1, 2]);
        return waiting[0];
      },
      { description: '3 Ready biz1 pods (1 + 2) and 1 unscheduled', timeoutMs: 90_000 },
    );
    const events = await waitFor(
      async () => {
        const list = await eventsOf(harness.kc, harness.namespace, pending.metadata?.name);
        return list.some((e) => e.reason === 'FailedScheduling') ? list : undefined;
      },
      { description: 'FailedScheduling from kube-scheduler', timeoutMs: 30_000 },
    );
    const failed = events.find((e) => e.reason === 'FailedScheduling');
    expect(failed?.source?.component ?? failed?.reportingComponent).toBe('default-scheduler');
    expect(failed?.message).toMatch(/2 Too many pods/);
    // Nothing was refused at admission: the scheduler never bound beyond the cap.
    const all = await modulePods(harness.kc, harness.namespace, 'biz1');
    expect(all.filter((p) => p.status?.phase === 'Failed')).toEqual([]);
    await deleteDeployments(harness.kc, harness.namespace);
  });

  it('concurrent binds beyond the cap are refused at admission with a reason and an Event', async () => {
    expect(await allocatable('admit')).toBe('2');
    const node = nodeOf('admit');
    // Pods nobody schedules (a scheduler name no scheduler serves), bound by the test at once.
    const pods = ['cap-a', 'cap-b', 'cap-c'];
    for (const name of pods)
      await core.createNamespacedPod({
        namespace: harness.namespace,
        body: barePod(name, { schedulerName: `nobody-${harness.env}` }),
      });
    await Promise.all(
      pods.map((name) =>
        core.createNamespacedPodBinding({
          name,
          namespace: harness.namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name, namespace: harness.namespace },
            target: { apiVersion: 'v1', kind: 'Node', name: node },
          },
        }),
      ),
    );
    const settled = await waitFor(
      async () => {
        const list: V1Pod[] = await Promise.all(
          pods.map((name) => core.readNamespacedPod({ name, namespace: harness.namespace })),
        );
        const ready = list.filter(isReady);
        const refused = list.filter((p) => p.status?.phase === 'Failed');
        return ready.length === 2 && refused.length === 1 ? { ready, refused: refused[0] } : undefined;
      },
      { description: 'two pods Ready and one refused', timeoutMs: 60_000 },
    );
    const refused = settled.refused;
    expect(refused?.status?.reason).toBe('ModuleCapExceeded');
    expect(refused?.status?.message).toMatch(/at its module cap: 2 of 2 module pods/);
    const ready = refused?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ModuleCapExceeded' });
    const events = await waitFor(
      async () => {
        const list = await eventsOf(harness.kc, harness.namespace, refused?.metadata?.name);
        return list.find((e) => e.reason === 'ModuleCapExceeded');
      },
      { description: 'the ModuleCapExceeded Event', timeoutMs: 30_000 },
    );
    expect(events.type).toBe('Warning');
    expect(events.message).toContain('was not installed');
    // The base ran the two admitted modules and was never asked to install the refused one.
    const base = bases.get('admit');
    const installs = (base?.timeline.received('installBiz') ?? []).map((m) => m.payload);
    const refusedModule = refused?.spec?.containers[0]?.name ?? '';
    expect(installs.some((payload) => payload.includes(`"${refusedModule}"`))).toBe(false);
    for (const pod of settled.ready) {
      const module = pod.spec?.containers[0]?.name ?? '';
      expect(base?.timeline.activatedVersionsAt(module, Date.now())).toEqual(['0.0.1']);
    }
    for (const name of pods) await core.deleteNamespacedPod({ name, namespace: harness.namespace });
  });

  it('a pod that fits nowhere stays Pending with a FailedScheduling Event naming why, and is placed once room appears', async () => {
    expect(await allocatable('solo')).toBe('1');
    const first = barePod('solo-1', { baseName: names.solo, schedulerName: 'koupleless' });
    const second = barePod('solo-2', { baseName: names.solo, schedulerName: 'koupleless' });
    const untolerated = barePod('solo-3', {
      baseName: names.solo,
      schedulerName: 'koupleless',
      tolerate: false,
    });
    await core.createNamespacedPod({ namespace: harness.namespace, body: first });
    await waitFor(
      async () => isReady(await core.readNamespacedPod({ name: 'solo-1', namespace: harness.namespace })),
      { description: 'solo-1 Ready', timeoutMs: 60_000 },
    );
    await core.createNamespacedPod({ namespace: harness.namespace, body: second });
    await core.createNamespacedPod({ namespace: harness.namespace, body: untolerated });

    // Waits for a FailedScheduling Event whose message passes `accept` (a base that came up moments ago may still
    // carry the node-lifecycle controller's not-ready taint, which an earlier attempt reports).
    const failedScheduling = (pod: string, accept: (message: string) => boolean) =>
      waitFor(
        async () =>
          (await eventsOf(harness.kc, harness.namespace, pod)).find(
            (e) => e.reason === 'FailedScheduling' && accept(e.message ?? ''),
          ),
        { description: `FailedScheduling for ${pod}`, timeoutMs: 30_000 },
      );
    const full = await failedScheduling('solo-2', (message) =>
      message.includes('1 base(s) were at their module cap (allocatable pods 1)'),
    );
    expect(full.type).toBe('Warning');
    expect(full.source?.component).toBe('koupleless');
    expect(full.message).toMatch(/^0\/\d+ nodes are available: /);
    expect(full.message).toMatch(/node\(s\) didn't match Pod's node affinity\/selector/);
    await failedScheduling('solo-3', (message) =>
      message.includes(
        '1 node(s) had untolerated taint {schedule.koupleless.io/virtual-node: True}:NoExecute',
      ),
    );
    const waiting = await core.readNamespacedPod({ name: 'solo-2', namespace: harness.namespace });
    expect(waiting.spec?.nodeName).toBeUndefined();
    expect(waiting.status?.phase).toBe('Pending');
    const scheduledCondition = waiting.status?.conditions?.find((c) => c.type === 'PodScheduled');
    expect(scheduledCondition).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(scheduledCondition?.message).toContain('were at their module cap');

    // Room appears: the waiting pod is placed at once (the periodic retry is 10 minutes away).
    await core.deleteNamespacedPod({ name: 'solo-1', namespace: harness.namespace });
    const placed = await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ name: 'solo-2', namespace: harness.namespace });
        return isReady(pod) ? pod : undefined;
      },
      { description: 'solo-2 placed and Ready', timeoutMs: 60_000 },
    );
    expect(placed.spec?.nodeName).toBe(nodeOf('solo'));
    const stillWaiting = await core.readNamespacedPod({ name: 'solo-3', namespace: harness.namespace });
    expect(stillWaiting.spec?.nodeName).toBeUndefined();
  });
});
