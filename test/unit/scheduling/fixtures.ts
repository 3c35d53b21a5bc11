import type { V1Node, V1Pod, V1PodSpec } from '@kubernetes/client-node';

/** A Ready VNode with kmc's taint, the hostname label and optional extra labels. */
export function node(
  name: string,
  options: {
    labels?: Record<string, string>;
    pods?: number;
    ready?: boolean;
    unschedulable?: boolean;
    taints?: V1Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never;
  } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, type: 'virtual-kubelet', ...options.labels },
    },
    spec: {
      taints: options.taints ?? [
        { key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' },
      ],
      ...(options.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      allocatable: { pods: String(options.pods ?? 110) },
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

export const TOLERATE_VNODE = [
  { key: 'schedule.koupleless.io/virtual-node', operator: 'Equal', value: 'True', effect: 'NoExecute' },
];

/** A module pod of `bizName:bizVersion`, tolerating kmc's taint. */
export function modulePod(
  name: string,
  options: {
    namespace?: string;
    bizName?: string;
    bizVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    spec?: Partial<V1PodSpec>;
    nodeName?: string;
    owner?: string;
    deleting?: boolean;
    phase?: string;
  } = {},
): V1Pod {
  const bizName = options.bizName ?? 'biz1';
  const bizVersion = options.bizVersion ?? '0.0.1';
  return {
    metadata: {
      name,
      namespace: options.namespace ?? 'ns',
      uid: `uid-${name}`,
      labels: { 'module-controller.koupleless.io/component': 'module', ...options.labels },
      ...(options.annotations ? { annotations: options.annotations } : {}),
      ...(options.owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: options.owner,
                uid: options.owner,
                controller: true,
              },
            ],
          }
        : {}),
      ...(options.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: {
      containers: [
        {
          name: bizName,
          image: `https://example.invalid/${bizName}-${bizVersion}.jar`,
          env: [{ name: 'BIZ_VERSION', value: bizVersion }],
        },
      ],
      tolerations: TOLERATE_VNODE,
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      ...options.spec,
    },
    ...(options.phase ? { status: { phase: options.phase } } : {}),
  };
}
