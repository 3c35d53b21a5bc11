import { CoordinationV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound, describeKubeError } from '../kube/kube-errors.ts';
import { mergePatch } from '../kube/patch-options.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

const LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's lease duration; the node-lifecycle controller only looks at renewals, not at this. */
const LEASE_DURATION_SECONDS = 40;

interface Tracked {
  uid: string;
  nextAt: number;
  inFlight: boolean;
}

/**
 * Renews the node heartbeat Lease (kube-node-lease/<node>) of every node kmc serves, on a kubelet-like period:
 * this is what the real node-lifecycle controller watches. Renewals are spread over the period and run with
 * bounded concurrency, so thousands of nodes cost a steady trickle of writes, not bursts.
 */
export class NodeLeaseRenewer {
  readonly #api: CoordinationV1Api;
  readonly #periodMs: number;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #tracked = new Map<string, Tracked>();
  readonly #maxInFlight: number;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    kc: KubeConfig;
    periodMs: number;
    logger: Logger;
    metrics: Metrics;
    maxInFlight?: number;
  }) {
    this.#api = options.kc.makeApiClient(CoordinationV1Api);
    this.#periodMs = options.periodMs;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#maxInFlight = options.maxInFlight ?? 16;
  }

  /** Keeps renewing this node's Lease; the first renewal comes soon, at a random point of the first period. */
  track(nodeName: string, nodeUid: string): void {
    const existing = this.#tracked.get(nodeName);
    if (existing) {
      existing.uid = nodeUid;
      return;
    }
    this.#tracked.set(nodeName, {
      uid: nodeUid,
      nextAt: Date.now() + Math.random() * Math.min(1_000, this.#periodMs),
      inFlight: false,
    });
  }

  /** Renews now (a base that just came back should not wait for its turn). */
  renewSoon(nodeName: string): void {
    const tracked = this.#tracked.get(nodeName);
    if (tracked) tracked.nextAt = 0;
  }

  untrack(nodeName: string): void {
    this.#tracked.delete(nodeName);
  }

  isTracked(nodeName: string): boolean {
    return this.#tracked.has(nodeName);
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.#tick();
    }, 250);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async deleteLease(nodeName: string): Promise<void> {
    this.untrack(nodeName);
    try {
      await this.#api.deleteNamespacedLease({ name: nodeName, namespace: LEASE_NAMESPACE });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const [nodeName, tracked] of this.#tracked) {
      if (this.#inFlight >= this.#maxInFlight) return;
      if (tracked.inFlight || tracked.nextAt > now) continue;
      tracked.inFlight = true;
      this.#inFlight += 1;
      void this.#renew(nodeName, tracked).finally(() => {
        tracked.inFlight = false;
        this.#inFlight -= 1;
      });
    }
  }

  async #renew(nodeName: string, tracked: Tracked): Promise<void> {
    const spec = {
      holderIdentity: nodeName,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: new V1MicroTime(),
    };
    try {
      await this.#api.patchNamespacedLease(
        { name: nodeName, namespace: LEASE_NAMESPACE, body: { spec } },
        mergePatch(),
      );
      this.#metrics.apiWrites.inc({ resource: 'leases', verb: 'patch' });
      tracked.nextAt = Date.now() + this.#periodMs;
    } catch (error) {
      if (isNotFound(error)) {
        await this.#create(nodeName, tracked, spec);
        return;
      }
      // Retry sooner than a period: a missed renewal eats into the node-monitor grace.
      tracked.nextAt = Date.now() + Math.min(this.#periodMs, 2_000);
      this.#logger.warn({ node: nodeName, err: describeKubeError(error) }, 'node lease renewal failed');
    }
  }

  async #create(
    nodeName: string,
    tracked: Tracked,
    spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: V1MicroTime },
  ): Promise<void> {
    try {
      await this.#api.createNamespacedLease({
        namespace: LEASE_NAMESPACE,
        body: {
          metadata: {
            name: nodeName,
            namespace: LEASE_NAMESPACE,
            // Owned by the Node, as the kubelet does: deleting the Node removes its Lease.
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: tracked.uid }],
          },
          spec,
        },
      });
      this.#metrics.apiWrites.inc({ resource: 'leases', verb: 'create' });
      tracked.nextAt = Date.now() + this.#periodMs;
    } catch (error) {
      tracked.nextAt = Date.now() + Math.min(this.#periodMs, 2_000);
      if (!isAlreadyExists(error)) {
        this.#logger.warn({ node: nodeName, err: describeKubeError(error) }, 'node lease creation failed');
      }
    }
  }
}
