import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  V1MicroTime,
  setHeaderOptions,
  type KubeConfig,
  type V1NodeCondition,
  type V1Taint,
} from '@kubernetes/client-node';

/**
 * A test Node kept alive the way a kubelet keeps its node alive: a Lease in kube-node-lease renewed every
 * couple of seconds and a Ready condition with fresh heartbeats. No pod runs anywhere; what matters is that the
 * real scheduler and node-lifecycle controller treat the node as a live kubelet's, and react when it stops.
 * Used for the sentinel node and for tests of the control plane itself; kmc's own VNodes come from kmc.
 */
export interface HeartbeatNodeOptions {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly V1Taint[];
  readonly zone?: string;
  readonly leaseRenewMs?: number;
  readonly statusHeartbeatMs?: number;
  readonly podCapacity?: number;
}

export interface HeartbeatNode {
  readonly name: string;
  /** Renewals and status heartbeats sent so far. */
  renewals(): number;
  /** Stops the Lease and status heartbeats, as a node whose kubelet died. */
  stopHeartbeats(): void;
  /** Stops heartbeats and deletes the Node and its Lease. */
  remove(): Promise<void>;
}

const LEASE_NAMESPACE = 'kube-node-lease';

export async function startHeartbeatNode(
  kc: KubeConfig,
  options: HeartbeatNodeOptions,
): Promise<HeartbeatNode> {
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const { name } = options;
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    ...(options.zone ? { 'topology.kubernetes.io/zone': options.zone } : {}),
    ...options.labels,
  };
  const node = await core.createNode({
    body: {
      metadata: { name, labels },
      spec: { taints: [...(options.taints ?? [])] },
    },
  });
  const capacity = { pods: String(options.podCapacity ?? 110), cpu: '16', memory: '64Gi' };
  const postStatus = async () => {
    const now = new Date();
    const condition = (type: string, status: string, reason: string): V1NodeCondition => ({
      type,
      status,
      reason,
      message: `${reason} (test heartbeat)`,
      lastHeartbeatTime: now,
      lastTransitionTime: node.metadata?.creationTimestamp ?? now,
    });
    await core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            capacity,
            allocatable: capacity,
            conditions: [
              condition('Ready', 'True', 'KubeletReady'),
              condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
              condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
              condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
            ],
            addresses: [{ type: 'Hostname', address: name }],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
  const renewLease = async () => {
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: 40,
      renewTime: new V1MicroTime(),
    };
    try {
      await coordination.patchNamespacedLease(
        { name, namespace: LEASE_NAMESPACE, body: { spec } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch {
      await coordination.createNamespacedLease({
        namespace: LEASE_NAMESPACE,
        body: {
          metadata: {
            name,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid ?? '' }],
          },
          spec,
        },
      });
    }
  };

  let renewals = 0;
  let running = true;
  const beat = (work: () => Promise<void>) => () => {
    if (!running) return;
    work().then(
      () => (renewals += 1),
      () => undefined, // a missed beat is what the grace period is for; the next one retries
    );
  };
  await postStatus();
  await renewLease();
  const leaseTimer = setInterval(beat(renewLease), options.leaseRenewMs ?? 2_000);
  const statusTimer = setInterval(beat(postStatus), options.statusHeartbeatMs ?? 10_000);
  leaseTimer.unref();
  statusTimer.unref();

  const stopHeartbeats = () => {
    running = false;
    clearInterval(leaseTimer);
    clearInterval(statusTimer);
  };
  return {
    name,
    renewals: () => renewals,
    stopHeartbeats,
    remove: async () => {
      stopHeartbeats();
      await core.deleteNode({ name }).catch(() => undefined);
      await coordination.deleteNamespacedLease({ name, namespace: LEASE_NAMESPACE }).catch(() => undefined);
    },
  };
}
