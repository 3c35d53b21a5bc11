import type { V1DaemonSet, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../../core/kube/label-selector.ts';
import type { ObjectCache } from '../../../core/kube/scoped-informers.ts';
import { PodIndex } from '../../../core/module/pod-index.ts';
import { WorkloadIndex } from '../../../core/module/workload-index.ts';

function cache<T extends { metadata?: { name?: string; namespace?: string } }>(items: T[]): ObjectCache<T> {
  return {
    get: (name, namespace) =>
      items.find((i) => i.metadata?.name === name && i.metadata.namespace === namespace),
    list: (namespace) => items.filter((i) => namespace === undefined || i.metadata?.namespace === namespace),
  };
}

const deployment = (labels: Record<string, string>): V1Deployment => ({
  metadata: { name: 'biz1', namespace: 'ns', uid: 'd-1', generation: 2, labels },
  spec: { replicas: 2, selector: {}, template: { spec: { containers: [] } } },
  status: { observedGeneration: 2, updatedReplicas: 1, availableReplicas: 2, replicas: 3 },
});

const replicaSet = (name: string, uid: string, revision: string): V1ReplicaSet => ({
  metadata: {
    name,
    namespace: 'ns',
    uid,
    annotations: { 'deployment.kubernetes.io/revision': revision },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'biz1', uid: 'd-1', controller: true },
    ],
  },
  spec: { selector: {}, template: { spec: { containers: [] } } },
});

function index(labels: Record<string, string>, selector: string): WorkloadIndex {
  const pods = new PodIndex();
  const old: V1Pod = {
    metadata: {
      name: 'old',
      namespace: 'ns',
      uid: 'p-1',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs-old', uid: 'rs-1', controller: true },
      ],
    },
    spec: { nodeName: 'n', containers: [] },
  };
  pods.apply('add', old);
  return new WorkloadIndex(
    {
      deployments: cache([deployment(labels)]),
      replicaSets: cache([replicaSet('rs-old', 'rs-1', '1'), replicaSet('rs-new', 'rs-2', '2')]),
      daemonSets: cache<V1DaemonSet>([]),
      statefulSets: cache<V1StatefulSet>([]),
    },
    pods,
    parseLabelSelector(selector),
  );
}

const ref = { kind: 'Deployment', namespace: 'ns', name: 'biz1', uid: 'd-1' };

describe('workload index: which Deployments are rollouts', () => {
  it('sees a Deployment with pods of an older ReplicaSet as rolling out', () => {
    expect(index({}, '').isRollingOut(ref)).toBe(true);
  });

  it('manages only the Deployments watch.deploymentSelector selects as rollouts; others roll natively', () => {
    expect(index({ team: 'a' }, 'team=a').isRollingOut(ref)).toBe(true);
    expect(index({ team: 'b' }, 'team=a').isRollingOut(ref)).toBe(false);
  });

  it('finds the newest ReplicaSet by revision', () => {
    expect(index({}, '').newestReplicaSet(ref)?.metadata?.name).toBe('rs-new');
  });
});
