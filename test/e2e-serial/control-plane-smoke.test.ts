import { CoordinationV1Api, CoreV1Api, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeartbeatNode, type HeartbeatNode } from '../support/heartbeat-node.ts';
import { kubectl, testKubeConfig, uniqueName } from '../support/kube.ts';
import { waitFor } from '../support/wait-for.ts';
import { recordWatch, type WatchRecorder } from '../support/watch-recorder.ts';

/**
 * The test bed's promise: real Kubernetes reacts to a node the way it reacts to a kubelet's. A node that
 * renews its Lease and posts Ready gets pods from the real scheduler; when it falls silent (the sentinel node
 * of the global setup stays Ready in its own zone), the real node-lifecycle controller marks it NotReady,
 * taints it unreachable — NoSchedule, then NoExecute — and the taint-eviction controller evicts its pods.
 */
describe('local control plane: scheduling onto and evicting from a heartbeat node', () => {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const nodeName = uniqueName('kmc-smoke');
  const namespace = uniqueName('smoke');
  const taintKey = 'schedule.koupleless.io/virtual-node';
  let node: HeartbeatNode;
  let nodeVersions: WatchRecorder<V1Node> | undefined;
  const taintHistory = () =>
    (nodeVersions?.versions ?? []).map((version) =>
      (version.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`),
    );

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    node = await startHeartbeatNode(kc, {
      name: nodeName,
      // A zone of its own: this node going down must not count against the sentinel's zone.
      zone: `${nodeName}-zone`,
      taints: [{ key: taintKey, value: 'True', effect: 'NoExecute' }],
    });
    const selector = `metadata.name=${nodeName}`;
    nodeVersions = await recordWatch(
      kc,
      '/api/v1/nodes',
      () => core.listNode({ fieldSelector: selector }),
      selector,
    );
  });

  afterAll(async () => {
    await nodeVersions?.stop();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await node.remove();
  });

  it('schedules a 2-replica Deployment that tolerates the node taint onto the live node', async () => {
    await waitFor(
      async () => {
        const current = await core.readNode({ name: nodeName });
        const ready = current.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        // TaintNodesByCondition puts not-ready:NoSchedule on every new node; the lifecycle controller lifts it.
        const notReadyTaint = current.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready');
        return ready && !notReadyTaint;
      },
      { description: `node ${nodeName} Ready without the not-ready taint`, timeoutMs: 60_000 },
    );

    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'smoke', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'smoke' } },
        template: {
          metadata: { labels: { app: 'smoke' } },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': nodeName },
            tolerations: [{ key: taintKey, operator: 'Equal', value: 'True', effect: 'NoExecute' }],
            containers: [{ name: 'app', image: 'example.invalid/smoke:1' }],
          },
        },
      },
    };
    const applied = await kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(manifest) });
    expect(applied.stdout).toContain('deployment.apps/smoke created');

    const pods = await waitFor(
      async () => {
        const list = await core.listNamespacedPod({ namespace });
        const bound = list.items.filter((pod) => pod.spec?.nodeName === nodeName);
        return bound.length === 2 ? bound : undefined;
      },
      { description: '2 pods bound to the heartbeat node', timeoutMs: 60_000 },
    );
    expect(pods.map((pod) => pod.spec?.nodeName)).toEqual([nodeName, nodeName]);

    const renewTime = async () =>
      Date.parse(
        String(
          (await coordination.readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' })).spec
            ?.renewTime,
        ),
      );
    const first = await renewTime();
    await waitFor(async () => (await renewTime()) > first, {
      description: 'the node Lease renewed',
      timeoutMs: 15_000,
    });
  });

  it('marks the silent node NotReady, taints it unreachable NoSchedule then NoExecute, and evicts its pods', async () => {
    const before = (await core.listNamespacedPod({ namespace })).items.map((pod) => pod.metadata?.uid);
    expect(before).toHaveLength(2);
    node.stopHeartbeats();

    // Fast profile: node-monitor grace 30 s, checked every second.
    await waitFor(
      async () =>
        (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready')
          ?.status === 'Unknown',
      { description: 'Ready=Unknown set by the node-lifecycle controller', timeoutMs: 60_000 },
    );
    await waitFor(
      () => taintHistory().some((taints) => taints.includes('node.kubernetes.io/unreachable:NoExecute')),
      { description: 'the unreachable:NoExecute taint', timeoutMs: 30_000 },
    );
    const firstNoSchedule = taintHistory().findIndex((t) =>
      t.includes('node.kubernetes.io/unreachable:NoSchedule'),
    );
    const firstNoExecute = taintHistory().findIndex((t) =>
      t.includes('node.kubernetes.io/unreachable:NoExecute'),
    );
    expect(firstNoSchedule).toBeGreaterThanOrEqual(0);
    expect(firstNoSchedule).toBeLessThan(firstNoExecute);

    // Default toleration in the fast profile: 5 s, then the taint-eviction controller deletes each pod.
    const evicted = await waitFor(
      async () => {
        const pods = (await core.listNamespacedPod({ namespace })).items.filter((pod: V1Pod) =>
          before.includes(pod.metadata?.uid),
        );
        const done = pods.filter((pod) => pod.metadata?.deletionTimestamp);
        return done.length === 2 ? done : undefined;
      },
      { description: 'both pods evicted (deletionTimestamp set)', timeoutMs: 60_000 },
    );
    for (const pod of evicted) {
      const disruption = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
      expect(disruption?.reason).toBe('DeletionByTaintManager');
    }
  });
});
