import { CoordinationV1Api, CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmcHarness } from '../support/kmc-harness.ts';
import { waitFor } from '../support/wait-for.ts';

const ready = (node: V1Node | undefined) => node?.status?.conditions?.find((c) => c.type === 'Ready');

describe('VNode controller: bases become Nodes', () => {
  let harness: KmcHarness;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const readNode = (name: string) => core.readNode({ name }).catch(() => undefined);

  beforeAll(async () => {
    harness = await KmcHarness.start();
    core = harness.kc.makeApiClient(CoreV1Api);
    coordination = harness.kc.makeApiClient(CoordinationV1Api);
  });
  afterAll(async () => {
    await harness.close();
  });

  it('creates a Ready node with the canonical labels, taint, addresses and capacity, and renews its Lease', async () => {
    const base = await harness.base({
      name: 'base',
      version: '1.0.0',
      clusterName: 'default',
      localIP: '10.1.2.3',
      hostname: 'base-pod-1',
    });
    const name = harness.nodeName(base);
    const node = await waitFor(
      async () => {
        const current = await readNode(name);
        return ready(current)?.status === 'True' ? current : undefined;
      },
      { description: `node ${name} Ready`, timeoutMs: 20_000 },
    );

    expect(node.metadata?.labels).toMatchObject({
      'base.koupleless.io/name': 'base',
      'base.koupleless.io/version': '1.0.0',
      'base.koupleless.io/stack': 'java',
      'base.koupleless.io/cluster-name': 'default',
      'base.koupleless.io/host-name': 'base-pod-1',
      'kubernetes.io/hostname': name,
      type: 'virtual-kubelet',
      'virtual-kubelet.koupleless.io/env': harness.env,
      'topology.kubernetes.io/zone': harness.zone,
    });
    expect(node.metadata?.annotations?.['kmc.koupleless.io/base-id']).toBe(base.identity);
    expect(node.spec?.taints).toContainEqual(
      expect.objectContaining({
        key: 'schedule.koupleless.io/virtual-node',
        value: 'True',
        effect: 'NoExecute',
      }),
    );
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.1.2.3' },
      { type: 'Hostname', address: 'base-pod-1' },
    ]);
    expect(node.status?.capacity?.['pods']).toBe('110');
    expect(node.status?.allocatable?.['cpu']).toBeDefined();
    // The golden health reply reports a 256 MiB metaspace limit: memory follows it once heard.
    await waitFor(async () => (await readNode(name))?.status?.capacity?.['memory'] === '256Mi', {
      description: 'memory capacity from the base health reply',
      timeoutMs: 15_000,
    });

    const renewTime = async () =>
      Date.parse(
        String(
          (await coordination.readNamespacedLease({ name, namespace: 'kube-node-lease' })).spec?.renewTime,
        ),
      );
    const first = await waitFor(renewTime, { description: 'node Lease exists' });
    await waitFor(async () => (await renewTime()) > first, {
      description: 'node Lease renewed',
      timeoutMs: 10_000,
    });
    // The real node-lifecycle controller lifts the not-ready taint it put on the new node.
    await waitFor(
      async () =>
        !(await readNode(name))?.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'),
      { description: 'not-ready taint lifted by the node-lifecycle controller', timeoutMs: 20_000 },
    );
  });

  it('turns a silent base NotReady within the silence timeout, and Ready again when it returns', async () => {
    const base = await harness.base();
    const name = harness.nodeName(base);
    await waitFor(async () => ready(await readNode(name))?.status === 'True', {
      description: 'Ready',
      timeoutMs: 20_000,
    });
    // Silent: no heartbeat and no answer to health polls (a base that merely skips heartbeats but answers
    // health polls is alive, as upstream counts it).
    await base.crash();
    const silentAt = Date.now();
    const notReady = await waitFor(
      async () => {
        const condition = ready(await readNode(name));
        return condition?.status === 'False' ? condition : undefined;
      },
      { description: 'NotReady after silence', timeoutMs: 20_000 },
    );
    expect(notReady.reason).toBe('BaseSilent');
    // silence 3 s + one reconcile: well before the node-monitor grace (30 s) would call it Unknown
    expect(Date.now() - silentAt).toBeLessThan(15_000);
    await base.start();
    await waitFor(async () => ready(await readNode(name))?.status === 'True', {
      description: 'Ready again',
      timeoutMs: 20_000,
    });
    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.name=${name}`,
    });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['BaseOnline', 'BaseSilent', 'BaseReturned']));
  });

  it('updates labels when the base reports new metadata, and keeps labels, taints and cordon others set', async () => {
    const base = await harness.base({ version: '1.0.0' });
    const name = harness.nodeName(base);
    await waitFor(async () => ready(await readNode(name))?.status === 'True', {
      description: 'Ready',
      timeoutMs: 20_000,
    });
    await core.patchNode({
      name,
      body: [
        { op: 'add', path: '/metadata/labels/team', value: 'payments' },
        { op: 'add', path: '/spec/unschedulable', value: true },
      ],
    });
    await base.stop();
    const upgraded = await harness.base({ identity: base.identity, version: '2.0.0' });
    expect(upgraded.identity).toBe(base.identity);
    const node = await waitFor(
      async () => {
        const current = await readNode(name);
        return current?.metadata?.labels?.['base.koupleless.io/version'] === '2.0.0' ? current : undefined;
      },
      { description: 'version label 2.0.0', timeoutMs: 20_000 },
    );
    expect(node.metadata?.labels?.['team']).toBe('payments');
    expect(node.spec?.unschedulable).toBe(true);
  });

  it('marks the node of a base NotReady at once when a new base reports its hostname', async () => {
    const old = await harness.base({ hostname: `${harness.env}-base-0`, localIP: '10.9.9.9' });
    const oldName = harness.nodeName(old);
    await waitFor(async () => ready(await readNode(oldName))?.status === 'True', {
      description: 'old Ready',
      timeoutMs: 20_000,
    });
    // A rolled base pod: new identity and IP, same hostname (a StatefulSet pod); the old one never says goodbye.
    await old.crash();
    const replacement = await harness.base({ hostname: `${harness.env}-base-0`, localIP: '10.9.9.10' });
    const replacedAt = Date.now();
    const condition = await waitFor(
      async () => {
        const c = ready(await readNode(oldName));
        return c?.status === 'False' ? c : undefined;
      },
      { description: 'old node NotReady', timeoutMs: 10_000 },
    );
    expect(condition.reason).toBe('BaseReplaced');
    expect(condition.message).toContain(replacement.identity);
    // At once: sooner than the silence timeout would have done it.
    expect(Date.now() - replacedAt).toBeLessThan(3_000);
    await waitFor(async () => ready(await readNode(harness.nodeName(replacement)))?.status === 'True', {
      description: 'new node Ready',
      timeoutMs: 20_000,
    });
  });
});
