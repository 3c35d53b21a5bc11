import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/config-schema.ts';
import { Orchestrator } from '../../core/orchestrator.ts';
import { SchedulerPlugin } from '../../plugins/scheduler-plugin.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { uniqueName } from '../support/kube.ts';
import { barePod } from '../support/scheduling.ts';
import { uniqueId } from '../support/unique-id.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady } from '../support/pods.ts';

/** Binds counted by an orchestrator's scheduler (undefined: its scheduler never started). */
async function scheduled(orchestrator: Orchestrator): Promise<number | undefined> {
  const metric = orchestrator.metrics.registry.getSingleMetric('kmc_scheduling_attempts_total');
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find((v) => v.labels['result'] === 'scheduled')?.value ?? 0;
}

/**
 * Two kmc replicas with leader election, each with its own scheduler plugin: only the leader binds, and when it
 * stops, the new leader binds the next pod.
 */
describe('scheduler plugin under leader election', () => {
  let harness: KmcHarness;
  let core: CoreV1Api;
  const replicas: Orchestrator[] = [];
  const baseName = uniqueName('lead');

  async function replica(): Promise<Orchestrator> {
    const config = configSchema.parse(
      harness.kmcConfig({
        leaderElection: {
          enabled: true,
          namespace: harness.namespace,
          leaseSeconds: 4,
          renewDeadlineSeconds: 3,
          retrySeconds: 0.5,
        },
      }),
    );
    const orchestrator = new Orchestrator({
      config,
      kc: harness.kc,
      plugins: [new SchedulerPlugin(SchedulerPlugin.optionsSchema.parse({}))],
      logger: harness.logger,
      identity: uniqueId('kmc'),
    });
    await orchestrator.start();
    replicas.push(orchestrator);
    return orchestrator;
  }

  beforeAll(async () => {
    harness = await KmcHarness.start({ startKmc: false });
    core = harness.kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    for (const orchestrator of replicas) await orchestrator.stop().catch(() => undefined);
    await harness.close();
  });

  async function placed(name: string): Promise<void> {
    await core.createNamespacedPod({
      namespace: harness.namespace,
      body: barePod(name, { baseName, schedulerName: 'koupleless' }),
    });
    await waitFor(async () => isReady(await core.readNamespacedPod({ name, namespace: harness.namespace })), {
      description: `${name} bound and Ready`,
      timeoutMs: 60_000,
    });
  }

  it('only the leader binds, and a new leader takes over', async () => {
    const first = await replica();
    await waitFor(() => first.isLeader, { description: 'the first replica leads', timeoutMs: 20_000 });
    const second = await replica();
    await harness.base({ name: baseName, installLatencyMs: 100 });

    await placed('lead-1');
    expect(await scheduled(first)).toBe(1);
    expect(second.isLeader).toBe(false);
    expect(await scheduled(second)).toBeUndefined();

    // The leader stops (and releases its Lease): the other replica leads and binds.
    await first.stop();
    await waitFor(() => second.isLeader, { description: 'the second replica leads', timeoutMs: 20_000 });
    await placed('lead-2');
    expect(await scheduled(second)).toBe(1);
  });
});
