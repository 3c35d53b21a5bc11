import { CoordinationV1Api, CoreV1Api, type V1Node } from '@kubernetes/client-node';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { recordWatch } from '../support/watch-recorder.ts';
import { waitFor } from '../support/wait-for.ts';

const ready = (node: V1Node | undefined) => node?.status?.conditions?.find((c) => c.type === 'Ready');

describe('VNode controller: node life cycle', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const start = async (options: Parameters<typeof KmcHarness.start>[0] = {}) => {
    const harness = await KmcHarness.start(options);
    cleanup.push(() => harness.close());
    return harness;
  };

  it('deletes the node (and its Lease) only after the longer delete-after time', async () => {
    const harness = await start({ config: { bases: { deleteAfterSeconds: 8 } } });
    const core = harness.kc.makeApiClient(CoreV1Api);
    const base = await harness.base();
    const name = harness.nodeName(base);
    await waitFor(async () => ready(await core.readNode({ name }))?.status === 'True', {
      description: 'Ready',
      timeoutMs: 20_000,
    });
    await base.crash();
    const crashedAt = Date.now();
    await waitFor(async () => ready(await core.readNode({ name }))?.status === 'False', {
      description: 'NotReady',
      timeoutMs: 20_000,
    });
    expect(Date.now() - crashedAt).toBeLessThan(8_000);
    await waitFor(async () => !(await core.readNode({ name }).catch(() => undefined)), {
      description: 'node deleted',
      timeoutMs: 30_000,
    });
    // Counted from the last message kmc heard, which is at most one heartbeat interval (1 s) before the crash.
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(8_000 - 1_000);
    const coordination = harness.kc.makeApiClient(CoordinationV1Api);
    await waitFor(
      async () =>
        !(await coordination
          .readNamespacedLease({ name, namespace: 'kube-node-lease' })
          .catch(() => undefined)),
      { description: 'node Lease deleted', timeoutMs: 10_000 },
    );
  });

  it('marks a node NotReady at once when its base reports a non-ACTIVATED state', async () => {
    const harness = await start();
    const core = harness.kc.makeApiClient(CoreV1Api);
    const base = await harness.base({ heartbeatIntervalMs: 60_000 });
    const name = harness.nodeName(base);
    await waitFor(async () => ready(await core.readNode({ name }))?.status === 'True', {
      description: 'Ready',
      timeoutMs: 20_000,
    });
    const client = await mqtt.connectAsync(harness.broker.url);
    await client.publishAsync(
      `koupleless_${harness.env}/${base.identity}/base/heart`,
      JSON.stringify({
        data: {
          baseMetadata: { clusterName: 'default', identity: base.identity, name: 'base', version: '1.0.0' },
          localHostName: base.hostname,
          localIP: base.localIP,
          port: 0,
          state: 'DEACTIVATED',
        },
        publishTimestamp: Date.now(),
      }),
    );
    await client.endAsync();
    const condition = await waitFor(
      async () => {
        const c = ready(await core.readNode({ name }));
        return c?.status === 'False' ? c : undefined;
      },
      { description: 'NotReady after a DEACTIVATED heartbeat', timeoutMs: 5_000 },
    );
    expect(condition.reason).toBe('BaseDeactivated');
  });

  it('refuses a base id that cannot become a node name, and counts it', async () => {
    const harness = await start();
    await harness.base({ identity: 'bad..id' });
    await waitFor(
      async () =>
        (await harness.kmc.metrics.registry.getSingleMetricAsString('kmc_rejected_bases_total')).includes(
          'reason="invalid-base-id"',
        ),
      { description: 'rejection counted', timeoutMs: 10_000 },
    );
    const core = harness.kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode({ labelSelector: `virtual-kubelet.koupleless.io/env=${harness.env}` });
    expect(nodes.items).toEqual([]);
  });

  it('keeps nodes Ready while the broker is gone (within the grace), and serves the bases again after', async () => {
    const broker = await startEmbeddedBroker();
    const port = broker.port;
    let current: EmbeddedBroker = broker;
    cleanup.push(() => current.close());
    // silence 3 s, broker-loss grace 20 s: a broker outage of ~8 s must not touch the nodes
    const harness = await start({ broker, config: { mqtt: { lossGraceSeconds: 20 } } });
    const core = harness.kc.makeApiClient(CoreV1Api);
    const base = await harness.base();
    const name = harness.nodeName(base);
    await waitFor(async () => ready(await core.readNode({ name }))?.status === 'True', {
      description: 'Ready',
      timeoutMs: 20_000,
    });
    const selector = `metadata.name=${name}`;
    const versions = await recordWatch(
      harness.kc,
      '/api/v1/nodes',
      () => core.listNode({ fieldSelector: selector }),
      selector,
    );
    cleanup.push(() => versions.stop());

    await current.close();
    const outageStart = Date.now();
    await waitFor(() => !harness.kmc.tunnel.connected, {
      description: 'kmc sees the broker gone',
      timeoutMs: 10_000,
    });
    // Longer than the silence timeout, shorter than the grace.
    await waitFor(() => Date.now() - outageStart > 8_000, {
      description: 'an 8 s outage',
      timeoutMs: 20_000,
      intervalMs: 500,
    });
    current = await startEmbeddedBroker({ port });
    await waitFor(() => harness.kmc.tunnel.connected && base.connected, {
      description: 'both reconnected',
      timeoutMs: 20_000,
    });
    // Let a full silence window pass after the reconnect, so a wrongly silent base would show.
    const reconnectedAt = Date.now();
    await waitFor(() => Date.now() - reconnectedAt > 5_000, {
      description: 'a silence window',
      timeoutMs: 20_000,
      intervalMs: 500,
    });
    expect(versions.versions.map((v) => ready(v)?.status).filter((s) => s !== 'True')).toEqual([]);
    expect(ready(await core.readNode({ name }))?.status).toBe('True');
  });

  it('adopts its nodes after a restart without flapping them NotReady', async () => {
    const harness = await start();
    const core = harness.kc.makeApiClient(CoreV1Api);
    const bases = [await harness.base(), await harness.base()];
    for (const base of bases) {
      const name = harness.nodeName(base);
      await waitFor(async () => ready(await core.readNode({ name }))?.status === 'True', {
        description: 'Ready',
        timeoutMs: 20_000,
      });
    }
    const selector = `virtual-kubelet.koupleless.io/env=${harness.env}`;
    const versions = await recordWatch(harness.kc, '/api/v1/nodes', () =>
      core.listNode({ labelSelector: selector }),
    );
    cleanup.push(() => versions.stop());
    await harness.stopKmc();
    await harness.startKmc();
    const restartedAt = Date.now();
    await waitFor(() => Date.now() - restartedAt > 6_000, {
      description: 'two silence windows',
      timeoutMs: 20_000,
      intervalMs: 500,
    });
    const statuses = versions.versions
      .filter((v) => v.metadata?.labels?.['virtual-kubelet.koupleless.io/env'] === harness.env)
      .map((v) => ready(v)?.status);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 'True')).toEqual([]);
  });
});
