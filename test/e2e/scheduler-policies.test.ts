import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { SchedulerPlugin } from '../../plugins/scheduler-plugin.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { SCHEDULING_POLICY_ANNOTATION } from '../../core/scheduling/policy.ts';
import { kubectl, uniqueName } from '../support/kube.ts';
import { setModuleVersion } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  apply,
  countByNode,
  deleteDeployments,
  eventsOf,
  moduleDeployment,
  modulePods,
  peakPerNode,
  readyPods,
  recordPods,
  schedulable,
} from '../support/scheduling.ts';
import { versionOf } from '../support/pods.ts';

const CAP = 3;
/** A topology key kmc does not set on its nodes (the harness gives every base the same zone). */
const RACK = 'example.com/rack';
const MODULES = ['biz1', 'biz2', 'biz3', 'biz4', 'biz5', 'biz6'];

/**
 * The scheduler plugin on the real control plane: three simulated bases with a module cap of 3
 * (`scheduler.maxModulesPerBase`), pods with `schedulerName: koupleless` bound by kmc through the Binding API.
 * The tests run in order on one world and clean up after themselves.
 */
describe('scheduler plugin: scatter, stacking and rolling updates', () => {
  let harness: KmcHarness;
  let bases: SimulatedBase[];
  let nodes: string[];
  const baseName = uniqueName('sched');

  beforeAll(async () => {
    harness = await KmcHarness.start({
      config: { scheduler: { maxModulesPerBase: CAP } },
      plugins: [new SchedulerPlugin(SchedulerPlugin.optionsSchema.parse({ policy: 'scatter' }))],
    });
    bases = [];
    for (let i = 0; i < 3; i += 1) bases.push(await harness.base({ name: baseName, installLatencyMs: 100 }));
    nodes = bases.map((base) => harness.nodeName(base));
    await schedulable(harness.kc, nodes);
  });
  afterAll(async () => {
    await harness.close();
  });
  /** kmc's pod cache shows no pod on the bases: the next test's placements start from empty bases. */
  const kmcForgotPods = () => nodes.every((node) => harness.kmc.caches.podIndex.onNode(node).length === 0);

  async function placeSix(annotations?: Record<string, string>): Promise<number[]> {
    const recorder = await recordPods(harness.kc, harness.namespace);
    try {
      const manifests = await Promise.all(
        MODULES.map((name) =>
          moduleDeployment(name, {
            baseNames: [baseName],
            schedulerName: 'koupleless',
            ...(annotations ? { annotations } : {}),
          }),
        ),
      );
      await apply(harness.namespace, manifests);
      const pods = await readyPods(harness.kc, harness.namespace, MODULES.length);
      // Every module landed on one of the bases, each on the base the bases themselves report.
      for (const pod of pods) {
        const base = bases.find((b) => harness.nodeName(b) === pod.spec?.nodeName);
        expect(base?.timeline.activatedVersionsAt(pod.spec?.containers[0]?.name ?? '', Date.now())).toEqual([
          '0.0.1',
        ]);
      }
      // The cap held at every instant, not only at the end.
      for (const [node, peak] of peakPerNode(recorder)) expect(peak, node).toBeLessThanOrEqual(CAP);
      return countByNode(pods, nodes);
    } finally {
      await recorder.stop();
    }
  }

  it('scatter places six single-replica Deployments 2 / 2 / 2 on three bases with cap 3', async () => {
    const counts = await placeSix();
    expect(counts).toEqual([2, 2, 2]);
    const events = await eventsOf(harness.kc, harness.namespace);
    const scheduled = events.filter((e) => e.reason === 'Scheduled');
    expect(scheduled).toHaveLength(MODULES.length);
    expect(scheduled.every((e) => e.source?.component === 'koupleless')).toBe(true);
    expect(scheduled.every((e) => e.message?.includes('policy scatter'))).toBe(true);
    await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
  });

  it('stacking (the Deployment annotation overrides the plugin) places them 3 / 3 / 0', async () => {
    const counts = await placeSix({ 'rollout.koupleless.io/scheduling-policy': 'stacking' });
    expect([...counts].sort((a, b) => b - a)).toEqual([3, 3, 0]);
    const events = (await eventsOf(harness.kc, harness.namespace)).filter((e) => e.reason === 'Scheduled');
    expect(events.some((e) => e.message?.includes('policy stacking (from the deployment annotation)'))).toBe(
      true,
    );
    await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
  });

  it('a rolling update with scatter lands each new-version pod on a base that ran the old version', async () => {
    const options = {
      baseNames: [baseName],
      schedulerName: 'koupleless',
      replicas: 2,
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    };
    const deployment = await moduleDeployment('biz1', options);
    await apply(harness.namespace, [deployment]);
    const old = await readyPods(harness.kc, harness.namespace, 2, { version: '0.0.1' });
    const oldNodes = new Set(old.map((pod) => pod.spec?.nodeName));
    // Scatter spread the two old pods: one base is left empty, the one scatter alone would pick next.
    expect(oldNodes.size).toBe(2);
    const empty = nodes.find((node) => !oldNodes.has(node));
    expect(empty).toBeDefined();

    const recorder = await recordPods(harness.kc, harness.namespace);
    try {
      await apply(harness.namespace, [setModuleVersion(structuredClone(deployment), 'biz1', '0.0.2')]);
      const updated = await readyPods(harness.kc, harness.namespace, 2, { version: '0.0.2' });
      expect(new Set(updated.map((pod) => pod.spec?.nodeName))).toEqual(oldNodes);
      // Every new-version pod that was ever bound (not only the survivors) went to a base of the old version.
      const boundNew = recorder.versions.filter((pod) => versionOf(pod) === '0.0.2' && pod.spec?.nodeName);
      expect(boundNew.length).toBeGreaterThan(0);
      for (const pod of boundNew) expect(oldNodes.has(pod.spec?.nodeName)).toBe(true);
    } finally {
      await recorder.stop();
    }
    const emptyBase = bases.find((base) => harness.nodeName(base) === empty);
    expect(emptyBase?.timeline.bizChanges().filter((c) => c.bizName === 'biz1')).toEqual([]);
    const events = (await eventsOf(harness.kc, harness.namespace)).filter(
      (e) => e.reason === 'Scheduled' && e.message?.includes('replaces another version in place'),
    );
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it("the ModuleRollout's spec.strategy.schedulingPolicy overrides the plugin for its revision's pods", async () => {
    await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
    const options = { baseNames: [baseName], schedulerName: 'koupleless' };
    // Two modules stacked on one base make it the busiest (2 of 3); the other two bases stay empty.
    const stacked = { ...options, annotations: { [SCHEDULING_POLICY_ANNOTATION]: 'stacking' } };
    await apply(harness.namespace, [await moduleDeployment('biz7', stacked)]);
    const [first] = await readyPods(harness.kc, harness.namespace, 1);
    await apply(harness.namespace, [await moduleDeployment('biz8', stacked)]);
    const fillers = await readyPods(harness.kc, harness.namespace, 2);
    const busiest = first?.spec?.nodeName;
    expect(fillers.map((pod) => pod.spec?.nodeName)).toEqual([busiest, busiest]);

    // The plugin's scatter puts biz9's first pod on an empty base.
    const target = await moduleDeployment('biz9', options);
    await apply(harness.namespace, [target]);
    const [scattered] = await readyPods(harness.kc, harness.namespace, 1, { app: 'biz9' });
    expect(scattered?.spec?.nodeName).not.toBe(busiest);

    // Stacking for this revision only, on its ModuleRollout; kmc's cache has it before the scale.
    await waitFor(
      () => Promise.resolve(harness.kmc.caches.moduleRollouts.get('biz9-r1', harness.namespace)),
      {
        description: 'the ModuleRollout biz9-r1',
        timeoutMs: 30_000,
      },
    );
    await kubectl([
      'patch',
      'modulerollout',
      'biz9-r1',
      '-n',
      harness.namespace,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { strategy: { schedulingPolicy: 'stacking' } } }),
    ]);
    await waitFor(
      () =>
        Promise.resolve(
          harness.kmc.caches.moduleRollouts.get('biz9-r1', harness.namespace)?.spec.strategy
            ?.schedulingPolicy === 'stacking' || undefined,
        ),
      { description: 'the patched ModuleRollout in kmc’s cache', timeoutMs: 30_000 },
    );
    await kubectl(['scale', 'deployment/biz9', '--replicas', '2', '-n', harness.namespace]);
    const scaled = await readyPods(harness.kc, harness.namespace, 2, { app: 'biz9' });
    const added = scaled.find((pod) => pod.metadata?.name !== scattered?.metadata?.name);
    // Scatter would have taken the other empty base; stacking fills the busiest one still under its cap.
    expect(added?.spec?.nodeName).toBe(busiest);
    const events = await eventsOf(harness.kc, harness.namespace, added?.metadata?.name);
    expect(events.find((e) => e.reason === 'Scheduled')?.message).toContain(
      'policy stacking (from ModuleRollout biz9-r1)',
    );
    await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
  });

  it('preferred node affinity steers scatter to the preferred base while it has at most one module more', async () => {
    // The base whose name sorts last: the one scatter's tie-break would pick last among empty bases.
    const preferredNode = [...nodes].sort().at(-1) ?? '';
    const preferring = async (name: string) => {
      const manifest = await moduleDeployment(name, { baseNames: [baseName], schedulerName: 'koupleless' });
      const spec = manifest.spec.template.spec as { affinity?: { nodeAffinity?: Record<string, unknown> } };
      const nodeAffinity = spec.affinity?.nodeAffinity ?? {};
      nodeAffinity['preferredDuringSchedulingIgnoredDuringExecution'] = [
        {
          weight: 10,
          preference: { matchFields: [{ key: 'metadata.name', operator: 'In', values: [preferredNode] }] },
        },
      ];
      return manifest;
    };
    const placed = async (name: string, count: number) => {
      const pods = await readyPods(harness.kc, harness.namespace, count);
      return pods.find((pod) => pod.metadata?.labels?.['app'] === name)?.spec?.nodeName;
    };
    // Every base empty: the preference wins. One module more than the emptiest: it still wins (+50 against 33).
    await apply(harness.namespace, [await preferring('biz10')]);
    expect(await placed('biz10', 1)).toBe(preferredNode);
    await apply(harness.namespace, [await preferring('biz11')]);
    expect(await placed('biz11', 2)).toBe(preferredNode);
    // Two more: scatter's spread (67) outweighs the preference, and the module goes to an empty base.
    await apply(harness.namespace, [await preferring('biz12')]);
    const third = await placed('biz12', 3);
    expect(third).toBeDefined();
    expect(third).not.toBe(preferredNode);
    await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
  });

  it('preferred pod affinity brings a module onto the base of the module it names, against scatter', async () => {
    await apply(harness.namespace, [
      await moduleDeployment('biz15', { baseNames: [baseName], schedulerName: 'koupleless' }),
    ]);
    const [first] = await readyPods(harness.kc, harness.namespace, 1, { app: 'biz15' });
    const manifest = await moduleDeployment('biz16', { baseNames: [baseName], schedulerName: 'koupleless' });
    const spec = manifest.spec.template.spec as { affinity?: Record<string, unknown> };
    spec.affinity = {
      ...spec.affinity,
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 10,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: { app: 'biz15' } },
            },
          },
        ],
      },
    };
    // Scatter alone sends biz16 to an empty base (100 against 67); the preference (+50) keeps it beside biz15.
    await apply(harness.namespace, [manifest]);
    const [second] = await readyPods(harness.kc, harness.namespace, 1, { app: 'biz16' });
    expect(first?.spec?.nodeName).toBeDefined();
    expect(second?.spec?.nodeName).toBe(first?.spec?.nodeName);
    await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
  });

  it('topology spread: DoNotSchedule over racks beats stacking, and a missing topology key leaves the pod Pending', async () => {
    // Racks by hand (kubectl label), as a platform team labels its bases: two bases in rack a, one in rack b.
    const rackOf = new Map(nodes.map((node, i) => [node, i < 2 ? 'rack-a' : 'rack-b'] as const));
    const label = async (suffix: (rack: string) => string) => {
      for (const [node, rack] of rackOf) await kubectl(['label', 'node', node, suffix(rack), '--overwrite']);
    };
    await label((rack) => `${RACK}=${rack}`);
    try {
      const spread = async (name: string, topologyKey: string, replicas: number) => {
        const manifest = await moduleDeployment(name, {
          baseNames: [baseName],
          schedulerName: 'koupleless',
          replicas,
          antiAffinity: false,
          annotations: { [SCHEDULING_POLICY_ANNOTATION]: 'stacking' },
        });
        const spec = manifest.spec.template.spec as Record<string, unknown>;
        spec['topologySpreadConstraints'] = [
          {
            maxSkew: 1,
            topologyKey,
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { app: name } },
          },
        ];
        return manifest;
      };
      // Stacking alone would put three on one base; the constraint keeps the racks within one pod of each other.
      await apply(harness.namespace, [await spread('biz13', RACK, 4)]);
      const pods = await readyPods(harness.kc, harness.namespace, 4, { app: 'biz13' });
      const perRack = new Map<string, number>();
      for (const pod of pods) {
        const rack = rackOf.get(pod.spec?.nodeName ?? '') ?? '?';
        perRack.set(rack, (perRack.get(rack) ?? 0) + 1);
      }
      expect(Object.fromEntries(perRack)).toEqual({ 'rack-a': 2, 'rack-b': 2 });

      // No base has the key: every base is refused, in kube-scheduler's words.
      await apply(harness.namespace, [await spread('biz14', 'example.com/row', 1)]);
      const message = await waitFor(
        async () => {
          const [pod] = await modulePods(harness.kc, harness.namespace, 'biz14');
          const events = await eventsOf(harness.kc, harness.namespace, pod?.metadata?.name);
          const failed = events.find((e) => e.reason === 'FailedScheduling')?.message;
          if (failed && pod?.spec?.nodeName === undefined) return failed;
          throw new Error(
            `pod ${pod?.metadata?.name ?? '-'} on ${pod?.spec?.nodeName ?? '-'}: ${failed ?? 'no event'}`,
          );
        },
        { description: 'biz14 FailedScheduling', timeoutMs: 30_000 },
      );
      expect(message).toBe(
        "0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints (missing required label).",
      );
      await deleteDeployments(harness.kc, harness.namespace, kmcForgotPods);
    } finally {
      await label(() => `${RACK}-`);
    }
  });
});
