import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.ts';
import { Controller, type ReconcileResult } from '../controller/controller.ts';
import type { Hooks } from '../hooks.ts';
import { nodeRef, type EventRecorder } from '../kube/event-recorder.ts';
import { Informer, type InformerEvent } from '../kube/informer.ts';
import { isConflict, isNotFound } from '../kube/kube-errors.ts';
import { FIELD_MANAGER, serverSideApply } from '../kube/patch-options.ts';
import type { Logger } from '../logger.ts';
import { controllerObserver, type Metrics } from '../metrics.ts';
import type { Tunnel, TunnelEvent } from '../tunnel/tunnel.ts';
import { BasePoller } from './base-poller.ts';
import type { BaseRecord, BaseRegistry, LivenessSettings } from './base-registry.ts';
import { NODE_ANNOTATIONS, NODE_LABELS } from './node-names.ts';
import { NodeLeaseRenewer } from './node-lease-renewer.ts';
import {
  nodeConditions,
  nodeFieldsFor,
  readyStateFor,
  type NodeTemplateSettings,
  type ReadyState,
} from './node-template.ts';

export interface VNodeSettings extends NodeTemplateSettings, LivenessSettings {
  readonly deleteAfterMs: number;
  readonly leaseRenewMs: number;
  readonly statusRefreshMs: number;
  readonly healthPollMs: number;
  readonly bizPollMs: number;
  /** Reported as the node's kubelet version. */
  readonly version: string;
}

export interface VNodeControllerOptions {
  readonly kc: KubeConfig;
  readonly settings: VNodeSettings;
  readonly registry: BaseRegistry;
  readonly tunnel: Tunnel;
  readonly hooks: Hooks;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** What was last written for a node, to skip writes that would change nothing. */
interface Written {
  shape?: unknown;
  status?: unknown;
  statusAt: number;
  ready?: ReadyState;
  readySince: Date;
}

/**
 * Bases become Nodes (ARCHITECTURE §2.1, §2.3). A heartbeat creates or updates the Node (server-side apply of
 * kmc's own fields only), a Lease renewed on a kubelet-like period and a Ready condition make the real
 * node-lifecycle controller see a live kubelet; a silent, deactivated or replaced base turns its node NotReady
 * (Kubernetes then taints and evicts as for any node); the Node is deleted only after a much longer silence.
 * Keyed by node name; everything it decides comes from the base registry and the node cache.
 */
export class VNodeController {
  readonly #options: VNodeControllerOptions;
  readonly #core: CoreV1Api;
  readonly #controller: Controller;
  readonly #nodes: Informer<V1Node>;
  readonly #nodeListeners: ((event: InformerEvent, node: V1Node) => void)[] = [];
  readonly #leases: NodeLeaseRenewer;
  readonly #poller: BasePoller;
  readonly #written = new Map<string, Written>();
  #leading = false;
  #gaugeTimer: NodeJS.Timeout | undefined;

  constructor(options: VNodeControllerOptions) {
    this.#options = options;
    const { kc, settings, logger, metrics } = options;
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#controller = new Controller({
      name: 'vnode',
      logger: logger.child({ controller: 'vnode' }),
      reconcile: (key) => this.#reconcile(key),
      workers: 4,
      isQuiet: isConflict,
      observer: controllerObserver(metrics),
    });
    this.#nodes = new Informer<V1Node>({
      kc,
      path: '/api/v1/nodes',
      list: () => this.#core.listNode({ labelSelector: this.#selector() }),
      labelSelector: this.#selector(),
      logger,
      onEvent: (event, node) => {
        if (this.#leading && node.metadata?.name) this.#controller.enqueue(node.metadata.name);
        for (const listener of this.#nodeListeners) listener(event, node);
      },
    });
    this.#leases = new NodeLeaseRenewer({ kc, periodMs: settings.leaseRenewMs, logger, metrics });
    this.#poller = new BasePoller(options.tunnel, settings.healthPollMs, settings.bizPollMs);
  }

  /** The node cache (kmc's own nodes of this env). */
  get nodes(): Informer<V1Node> {
    return this.#nodes;
  }

  /** Calls `listener` on every change of kmc's nodes (synchronously: it must only record or enqueue). */
  onNode(listener: (event: InformerEvent, node: V1Node) => void): void {
    this.#nodeListeners.push(listener);
  }

  /** Tunnel events reach every replica: the registry stays warm on followers, so a failover starts informed. */
  onTunnelEvent(event: TunnelEvent): void {
    const { registry, clock, metrics, logger } = this.#options;
    const now = clock.now();
    let record: BaseRecord | undefined;
    switch (event.type) {
      case 'heartbeat': {
        const outcome = registry.onHeartbeat(event, now);
        if (!outcome.ok) {
          metrics.rejectedBases.inc({ reason: outcome.reason });
          logger.warn(
            { baseId: event.baseId, reason: outcome.reason, detail: outcome.detail },
            'heartbeat refused',
          );
          return;
        }
        record = outcome.record;
        for (const replaced of outcome.replaced) {
          logger.info(
            { baseId: replaced.baseId, by: record.baseId },
            'base replaced by a new base with its IP or hostname',
          );
          this.#enqueue(replaced.nodeName);
        }
        if (outcome.change === 'new' || outcome.change === 'returned')
          this.#leases.renewSoon(record.nodeName);
        break;
      }
      case 'health':
        record = registry.onHealth(event, now);
        break;
      case 'baselineQuery':
        record = registry.onBaselineQuery(event, now);
        break;
      case 'inventory':
      case 'operation':
      case 'batchInstall':
        return;
    }
    if (record) this.#enqueue(record.nodeName);
  }

  /** Called when this replica becomes the leader: adopt existing nodes, then serve every base. */
  async startLeading(): Promise<void> {
    const { registry, clock, logger } = this.#options;
    await this.#nodes.start();
    await this.#nodes.synced();
    const now = clock.now();
    for (const node of this.#nodes.list()) {
      const baseId = node.metadata?.annotations?.[NODE_ANNOTATIONS.baseId];
      const nodeName = node.metadata?.name;
      if (
        !baseId ||
        !nodeName ||
        node.metadata?.annotations?.[NODE_ANNOTATIONS.env] !== this.#options.settings.env
      )
        continue;
      const labels = node.metadata.labels ?? {};
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      registry.adopt({
        baseId,
        nodeName,
        metadata: {
          identity: baseId,
          name: labels[NODE_LABELS.name] ?? '',
          version: labels[NODE_LABELS.version] ?? '',
          clusterName: labels[NODE_LABELS.clusterName] ?? '',
        },
        localIP: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
        hostname: node.status?.addresses?.find((a) => a.type === 'Hostname')?.address ?? '',
        ready,
        now,
      });
      // Renew adopted Ready nodes at once: a failover must not let their Leases age.
      if (ready && node.metadata.uid) {
        this.#leases.track(nodeName, node.metadata.uid);
        this.#leases.renewSoon(nodeName);
      }
    }
    logger.info({ adopted: registry.size }, 'vnode controller leading');
    this.#leading = true;
    this.#leases.start();
    this.#poller.start();
    this.#gaugeTimer = setInterval(() => {
      this.#publishBaseGauge();
    }, 5_000);
    this.#gaugeTimer.unref();
    this.#controller.start();
    for (const record of registry.all()) this.#controller.enqueue(record.nodeName);
  }

  async stop(): Promise<void> {
    this.#leading = false;
    clearInterval(this.#gaugeTimer);
    this.#poller.stop();
    this.#leases.stop();
    await this.#controller.stop();
    await this.#nodes.stop();
  }

  #selector(): string {
    return `${NODE_LABELS.type}=virtual-kubelet,${NODE_LABELS.env}=${this.#options.settings.env}`;
  }

  #enqueue(nodeName: string): void {
    if (this.#leading) this.#controller.enqueue(nodeName);
  }

  async #reconcile(nodeName: string): Promise<ReconcileResult | undefined> {
    const { registry, settings, clock, hooks, events, metrics } = this.#options;
    const record = registry.byNodeName(nodeName);
    const node = this.#nodes.get(nodeName);
    if (!record) return undefined;
    const now = clock.now();
    const liveness = registry.liveness(record, now, settings);

    if (liveness.state === 'silent' && liveness.sinceMs >= settings.deleteAfterMs) {
      await this.#deleteNode(record, `silent for ${Math.round(liveness.sinceMs / 1000)} s`);
      return undefined;
    }
    // A node of that name that another base id or env owns is not ours to change.
    const owner = node?.metadata?.annotations?.[NODE_ANNOTATIONS.baseId];
    const ownerEnv = node?.metadata?.annotations?.[NODE_ANNOTATIONS.env];
    if (node && (owner !== record.baseId || ownerEnv !== settings.env)) {
      metrics.rejectedBases.inc({ reason: 'node-name-taken' });
      events.record(
        nodeRef(nodeName),
        'Warning',
        'BaseIdConflict',
        `base ${record.baseId} (env ${settings.env}) maps to this node, which belongs to base ${owner ?? '?'} (env ${ownerEnv ?? '?'}); its heartbeats are ignored`,
      );
      registry.forget(record.baseId);
      return undefined;
    }

    const nodeReady = node?.status?.conditions?.find((c) => c.type === 'Ready');
    let written = this.#written.get(nodeName);
    if (!written) {
      const since = nodeReady?.lastTransitionTime ? new Date(nodeReady.lastTransitionTime) : new Date(now);
      written = { statusAt: 0, readySince: since };
      this.#written.set(nodeName, written);
    }
    const fields = hooks.nodeTemplate.call(nodeFieldsFor(record, settings), record);
    const shape = { labels: fields.labels, annotations: fields.annotations, taints: fields.taints };
    let uid = node?.metadata?.uid;
    if (!node || !isDeepStrictEqual(written.shape, shape) || !reflects(node, fields)) {
      const applied = await this.#core.patchNode(
        {
          name: nodeName,
          body: {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: { name: nodeName, labels: fields.labels, annotations: fields.annotations },
            spec: { taints: fields.taints },
          },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        serverSideApply(),
      );
      metrics.apiWrites.inc({ resource: 'nodes', verb: 'apply' });
      written.shape = shape;
      uid = applied.metadata?.uid;
    }

    const ready = readyStateFor(record, liveness);
    if (ready) {
      // What the node shows now: what we wrote last, or, the first time, what the API has (after a restart).
      const shown = written.ready?.status ?? nodeReady?.status;
      if (ready.status !== shown) {
        written.readySince = new Date(now);
        await this.#announce(record, ready, shown);
      }
      written.ready = ready;
      const status = {
        ready,
        capacity: fields.capacity,
        allocatable: fields.allocatable,
        ip: record.localIP,
        host: record.hostname,
      };
      if (!isDeepStrictEqual(written.status, status) || now - written.statusAt >= settings.statusRefreshMs) {
        await this.#writeStatus(nodeName, record, ready, fields, written, now, node);
        written.status = status;
        written.statusAt = now;
      }
      if (uid) this.#leases.track(nodeName, uid);
      if (liveness.state === 'alive' && record.heardSinceStart) this.#poller.track(record.baseId);
      else this.#poller.untrack(record.baseId);
    }

    const waits = [settings.statusRefreshMs - (now - written.statusAt)];
    if (liveness.state === 'alive' || liveness.state === 'unconfirmed')
      waits.push(liveness.silentAfterMs + 1);
    if (liveness.state === 'silent') waits.push(settings.deleteAfterMs - liveness.sinceMs + 1);
    return { requeueAfterMs: Math.max(100, Math.min(...waits)) };
  }

  async #writeStatus(
    nodeName: string,
    record: BaseRecord,
    ready: ReadyState,
    fields: { capacity: Record<string, string>; allocatable: Record<string, string> },
    written: Written,
    now: number,
    node: V1Node | undefined,
  ): Promise<void> {
    const created = node?.metadata?.creationTimestamp
      ? new Date(node.metadata.creationTimestamp)
      : written.readySince;
    await this.#core.patchNodeStatus(
      {
        name: nodeName,
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: nodeName },
          status: {
            capacity: fields.capacity,
            allocatable: fields.allocatable,
            conditions: nodeConditions(ready, new Date(now), written.readySince, created),
            addresses: [
              { type: 'InternalIP', address: record.localIP },
              ...(record.hostname ? [{ type: 'Hostname', address: record.hostname }] : []),
            ],
            nodeInfo: {
              kubeletVersion: this.#options.settings.version,
              osImage: `Koupleless base ${record.metadata.name} ${record.metadata.version}`.trim(),
              operatingSystem: 'koupleless',
              architecture: '',
              machineID: '',
              systemUUID: '',
              bootID: '',
              kernelVersion: '',
              containerRuntimeVersion: '',
              kubeProxyVersion: '',
            },
          },
        },
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      serverSideApply(),
    );
    this.#options.metrics.apiWrites.inc({ resource: 'nodes/status', verb: 'apply' });
  }

  async #announce(record: BaseRecord, ready: ReadyState, shown: string | undefined): Promise<void> {
    const { events, hooks, logger } = this.#options;
    const ref = nodeRef(record.nodeName);
    if (ready.status === 'True') {
      const returned = shown !== undefined;
      events.record(ref, 'Normal', returned ? 'BaseReturned' : 'BaseOnline', ready.message);
      logger.info(
        { baseId: record.baseId, node: record.nodeName },
        returned ? 'base returned' : 'base online',
      );
      await hooks.baseOnline.promise(record);
    } else {
      events.record(ref, 'Warning', ready.reason, ready.message);
      logger.warn({ baseId: record.baseId, node: record.nodeName, reason: ready.reason }, 'base offline');
      await hooks.baseOffline.promise(record, ready.reason);
    }
  }

  async #deleteNode(record: BaseRecord, why: string): Promise<void> {
    const { registry, events, hooks, logger } = this.#options;
    events.record(
      nodeRef(record.nodeName),
      'Normal',
      'BaseRemoved',
      `base ${record.baseId} ${why}: deleting its node`,
    );
    try {
      await this.#core.deleteNode({ name: record.nodeName });
      this.#options.metrics.apiWrites.inc({ resource: 'nodes', verb: 'delete' });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await this.#leases.deleteLease(record.nodeName);
    this.#poller.untrack(record.baseId);
    this.#written.delete(record.nodeName);
    registry.forget(record.baseId);
    logger.info({ baseId: record.baseId, node: record.nodeName }, 'node deleted');
    await hooks.baseOffline.promise(record, 'NodeDeleted');
  }

  #publishBaseGauge(): void {
    let ready = 0;
    let notReady = 0;
    for (const written of this.#written.values()) {
      if (written.ready?.status === 'True') ready += 1;
      else notReady += 1;
    }
    this.#options.metrics.bases.set({ ready: 'true' }, ready);
    this.#options.metrics.bases.set({ ready: 'false' }, notReady);
  }
}

/** Whether the node still carries what kmc applied (someone may have edited or removed our labels). */
function reflects(
  node: V1Node,
  fields: { labels: Record<string, string>; taints: readonly { key: string; effect: string }[] },
): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(fields.labels)) if (labels[key] !== value) return false;
  const taints = node.spec?.taints ?? [];
  return fields.taints.every((taint) => taints.some((t) => t.key === taint.key && t.effect === taint.effect));
}
