import { CoreV1Api } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePlugins } from '../../config/resolve-plugins.ts';
import { definePlugin } from '../../core/plugin.ts';
import { SchedulerPlugin } from '../../plugins/scheduler-plugin.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { uniqueName } from '../support/kube.ts';
import {
  apply,
  barePod,
  countByNode,
  eventsOf,
  moduleDeployment,
  readyPods,
  schedulable,
} from '../support/scheduling.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

const PLUGIN_FILE = fileURLToPath(new URL('../../examples/plugins/prefer-newer-bases.ts', import.meta.url));

/**
 * The example custom plugin examples/plugins/prefer-newer-bases.ts, selected by path next to the built-in
 * scheduler (as a config file would list them, through the same resolvePlugins): two bases at 1.0.0 and one at
 * 2.0.0, cap 3, four single-replica module Deployments. Scatter alone spreads them 2 / 1 / 1 at most; with the
 * plugin's scoreNodes tap the 2.0.0 base takes three (up to its cap) and the fourth goes to a 1.0.0 base.
 */
describe('custom scoreNodes plugin from examples/: prefer newer bases', () => {
  let harness: KmcHarness;
  let older: SimulatedBase[];
  let newer: SimulatedBase;
  const baseName = uniqueName('newer');

  beforeAll(async () => {
    const plugins = await resolvePlugins(
      [
        ['scheduler', { policy: 'scatter' }],
        [PLUGIN_FILE, { weight: 100 }],
      ],
      undefined,
    );
    harness = await KmcHarness.start({ config: { scheduler: { maxModulesPerBase: 3 } }, plugins });
    older = [
      await harness.base({ name: baseName, version: '1.0.0', installLatencyMs: 100 }),
      await harness.base({ name: baseName, version: '1.0.0', installLatencyMs: 100 }),
    ];
    newer = await harness.base({ name: baseName, version: '2.0.0', installLatencyMs: 100 });
    await schedulable(
      harness.kc,
      [...older, newer].map((b) => harness.nodeName(b)),
    );
  });
  afterAll(async () => {
    await harness.close();
  });

  it('puts the modules on the newest base version up to its cap, then on the others', async () => {
    expect(harness.kmc.plugins.map((p) => p.name)).toContain('prefer-newer-bases');
    const modules = ['biz1', 'biz2', 'biz3', 'biz4'];
    const manifests = await Promise.all(
      modules.map((name) =>
        moduleDeployment(name, {
          baseNames: [baseName],
          baseVersions: ['1.0.0', '2.0.0'],
          schedulerName: 'koupleless',
        }),
      ),
    );
    await apply(harness.namespace, manifests);
    const pods = await readyPods(harness.kc, harness.namespace, modules.length);
    const [onNewer = 0, ...onOlder] = countByNode(pods, [
      harness.nodeName(newer),
      ...older.map((b) => harness.nodeName(b)),
    ]);
    expect(onNewer).toBe(3);
    expect(onOlder.reduce((a, b) => a + b, 0)).toBe(1);
    // What the newer base runs, by its own account.
    const running = modules.filter(
      (name) => newer.timeline.activatedVersionsAt(name, Date.now()).join() === '0.0.1',
    );
    expect(running).toHaveLength(3);
  });
});

/**
 * filterNodes and scoreNodes taps written inline: a tap that adds every base of the env, fit or not (what the
 * built-in filters refused is ignored), then a filter that rules every base out for pods labelled
 * `placement=nowhere`, and a score tap that throws for pods labelled `placement=boom`.
 */
describe('filterNodes / scoreNodes taps', () => {
  let harness: KmcHarness;
  const baseName = uniqueName('taps');
  const labelOf = (pod: { metadata?: { labels?: Record<string, string> } }) =>
    pod.metadata?.labels?.['placement'];

  beforeAll(async () => {
    harness = await KmcHarness.start({
      plugins: [
        new SchedulerPlugin(SchedulerPlugin.optionsSchema.parse({ retrySeconds: 600 })),
        definePlugin({
          name: 'sneaky',
          apply: (kmc) => {
            // Tries to add every node of the env, fit or not: the scheduler ignores what it did not offer.
            kmc.hooks.filterNodes.tap('sneaky', (candidates) => [
              ...candidates,
              ...kmc.vnodes.nodes.list().map((node) => ({ node, modules: 0, cap: 100 })),
            ]);
          },
        }),
        definePlugin({
          name: 'nowhere',
          apply: (kmc) => {
            kmc.hooks.filterNodes.tap('nowhere', (candidates, pod) =>
              labelOf(pod) === 'nowhere' ? [] : candidates,
            );
          },
        }),
        definePlugin({
          name: 'boom',
          apply: (kmc) => {
            kmc.hooks.scoreNodes.tap('boom', (scored, pod) => {
              if (labelOf(pod) === 'boom') throw new Error('no score today');
              return scored;
            });
          },
        }),
      ],
    });
    await harness.base({ name: baseName, installLatencyMs: 100 });
    await harness.base({ name: uniqueName('other'), installLatencyMs: 100 });
    await schedulable(
      harness.kc,
      harness.bases.map((b) => harness.nodeName(b)),
    );
  });
  afterAll(async () => {
    await harness.close();
  });

  it('a filter tap rules bases out, cannot add one, and a failing tap leaves the pod Pending naming the plugin', async () => {
    const core = harness.kc.makeApiClient(CoreV1Api);
    const create = async (name: string, placement: string) => {
      const pod = barePod(name, { baseName, schedulerName: 'koupleless' });
      pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, placement } };
      await core.createNamespacedPod({ namespace: harness.namespace, body: pod });
    };
    await create('tap-ok', 'anywhere');
    await create('tap-nowhere', 'nowhere');
    await create('tap-boom', 'boom');
    const ok = await waitFor(
      async () => {
        const pod = await core.readNamespacedPod({ name: 'tap-ok', namespace: harness.namespace });
        return isReady(pod) ? pod : undefined;
      },
      { description: 'tap-ok Ready', timeoutMs: 60_000 },
    );
    // The sneaky tap offered the other base too: only the one the pod's nodeSelector allows was used.
    expect(ok.spec?.nodeName).toBe(harness.nodeName(harness.bases[0] as SimulatedBase));
    // Waits for the FailedScheduling Event with this message (a base that just came up may still carry the
    // node-lifecycle controller's not-ready taint for a moment, which an earlier attempt reports).
    const failed = (pod: string, message: string) =>
      waitFor(
        async () =>
          (await eventsOf(harness.kc, harness.namespace, pod)).find(
            (e) => e.reason === 'FailedScheduling' && e.message === message,
          ),
        { description: `FailedScheduling for ${pod}: ${message}`, timeoutMs: 30_000 },
      );
    await failed(
      'tap-nowhere',
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, " +
        '1 node(s) were filtered out by filterNodes plugins (sneaky, nowhere).',
    );
    await failed('tap-boom', 'scheduling failed: plugin "boom" failed in hook "scoreNodes": no score today');
    for (const name of ['tap-nowhere', 'tap-boom']) {
      const pod = await core.readNamespacedPod({ name, namespace: harness.namespace });
      expect(pod.spec?.nodeName).toBeUndefined();
    }
  });
});
