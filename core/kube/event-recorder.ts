import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { describeKubeError } from './kube-errors.ts';
import { mergePatch } from './patch-options.ts';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about. Objects from informer lists carry no kind, so the ref names it. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
}

export function refOf(apiVersion: string, kind: string, object: KubernetesObject): ObjectRef {
  return {
    apiVersion,
    kind,
    name: object.metadata?.name ?? '',
    namespace: object.metadata?.namespace,
    uid: object.metadata?.uid,
  };
}

export const podRef = (pod: KubernetesObject) => refOf('v1', 'Pod', pod);
/** Node events carry the node name as uid, as the kubelet's do: that is what `kubectl describe node` looks for. */
export const nodeRef = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Node', name, uid: name });
export const deploymentRef = (deployment: KubernetesObject) => refOf('apps/v1', 'Deployment', deployment);

interface Recorded {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastAt: number;
  /** Settles once the Event exists: a repeat recorded meanwhile waits for it rather than creating a second. */
  readonly created: Promise<boolean>;
}

/**
 * Kubernetes Events (core/v1, what `kubectl describe` shows) with kubelet-like aggregation: the same reason and
 * message on the same object within ten minutes bumps the count of the existing Event instead of writing a new
 * one. Best effort: a failed Event write is logged, never thrown.
 */
export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #recent = new Map<string, Recorded>();
  readonly #component: string;

  constructor(kc: KubeConfig, logger: Logger, metrics?: Metrics, component = 'kmc') {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#logger = logger;
    this.#metrics = metrics;
    this.#component = component;
  }

  /** Records an Event about `object` (a pod, a node, a Deployment, a ModuleRollout). */
  record(ref: ObjectRef, type: EventType, reason: string, message: string): void {
    void this.#write(ref, type, reason, message);
  }

  async #write(ref: ObjectRef, type: EventType, reason: string, message: string): Promise<void> {
    // Events about cluster-scoped objects (nodes) live in the default namespace, as the kubelet's do.
    const namespace = ref.namespace ?? 'default';
    const key = `${ref.uid ?? `${ref.kind}/${ref.name}`}\u0000${reason}\u0000${message}`;
    const now = Date.now();
    const existing = this.#recent.get(key);
    if (existing && now - existing.lastAt < 600_000) {
      existing.count += 1;
      existing.lastAt = now;
      if (!(await existing.created)) return;
      try {
        await this.#core.patchNamespacedEvent(
          {
            name: existing.name,
            namespace: existing.namespace,
            body: { count: existing.count, lastTimestamp: new Date(now) },
          },
          mergePatch(),
        );
        this.#metrics?.apiWrites.inc({ resource: 'events', verb: 'patch' });
      } catch (error) {
        this.#failed(key, reason, ref, error);
      }
      return;
    }
    const name = `${ref.name || 'object'}.${now.toString(16)}${Math.random().toString(16).slice(2, 6)}`;
    let settle: (ok: boolean) => void = () => undefined;
    const created = new Promise<boolean>((resolve) => (settle = resolve));
    // Registered before the write: two records of the same Event in one tick make one Event with count 2.
    this.#recent.set(key, { name, namespace, count: 1, lastAt: now, created });
    if (this.#recent.size > 10_000) this.#prune(now);
    try {
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            name: ref.name,
            ...(ref.namespace ? { namespace: ref.namespace } : {}),
            ...(ref.uid ? { uid: ref.uid } : {}),
          },
          reason,
          message: message.slice(0, 1024),
          type,
          count: 1,
          firstTimestamp: new Date(now),
          lastTimestamp: new Date(now),
          source: { component: this.#component },
          reportingComponent: this.#component,
        },
      });
      this.#metrics?.apiWrites.inc({ resource: 'events', verb: 'create' });
      settle(true);
    } catch (error) {
      settle(false);
      this.#failed(key, reason, ref, error);
    }
  }

  #failed(key: string, reason: string, ref: ObjectRef, error: unknown): void {
    this.#recent.delete(key);
    this.#logger.debug(
      { reason, object: ref.name, err: describeKubeError(error) },
      'could not record an Event',
    );
  }

  #prune(now: number): void {
    for (const [key, recorded] of this.#recent)
      if (now - recorded.lastAt >= 600_000) this.#recent.delete(key);
  }
}
