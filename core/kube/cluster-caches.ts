import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1DaemonSet,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import { PodIndex } from '../module/pod-index.ts';
import {
  ROLLOUT_GROUP,
  ROLLOUT_PLURAL,
  ROLLOUT_VERSION,
  type ModuleRollout,
} from '../rollout/module-rollout.ts';
import type { InformerEvent } from './informer.ts';
import { ScopedInformers } from './scoped-informers.ts';

export interface CacheObjects {
  pod: V1Pod;
  deployment: V1Deployment;
  replicaSet: V1ReplicaSet;
  daemonSet: V1DaemonSet;
  statefulSet: V1StatefulSet;
  moduleRollout: ModuleRollout & KubernetesObject;
}
export type CacheKind = keyof CacheObjects;
export type CacheListener<K extends CacheKind> = (
  event: InformerEvent,
  object: CacheObjects[K],
  previous: CacheObjects[K] | undefined,
) => void;

/**
 * The informer caches the controllers share — bound pods (with an index by node and owner), the workload kinds
 * and ModuleRollouts — in the watched namespaces, with listeners per kind. One watch per kind, whatever the
 * number of controllers reading it.
 */
export class ClusterCaches {
  readonly podIndex = new PodIndex();
  readonly pods: ScopedInformers<V1Pod>;
  readonly deployments: ScopedInformers<V1Deployment>;
  readonly replicaSets: ScopedInformers<V1ReplicaSet>;
  readonly daemonSets: ScopedInformers<V1DaemonSet>;
  readonly statefulSets: ScopedInformers<V1StatefulSet>;
  readonly moduleRollouts: ScopedInformers<CacheObjects['moduleRollout']>;
  readonly #listeners = new Map<
    CacheKind,
    ((event: InformerEvent, object: never, previous: never) => void)[]
  >();
  #withRollouts = false;

  constructor(kc: KubeConfig, namespaces: readonly string[], logger: Logger) {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const scoped = <K extends CacheKind>(
      kind: K,
      path: (namespace: string | undefined) => string,
      list: (namespace: string | undefined) => Promise<KubernetesListObject<CacheObjects[K]>>,
      fieldSelector?: string,
    ) =>
      new ScopedInformers<CacheObjects[K]>(namespaces, (namespace) => ({
        kc,
        path: path(namespace),
        list: () => list(namespace),
        ...(fieldSelector ? { fieldSelector } : {}),
        logger,
        onEvent: (event, object) => {
          this.#emit(kind, event, object);
        },
      }));
    // Bound pods only: an unscheduled pod is nothing for a kubelet to do.
    const bound = 'spec.nodeName!=';
    this.pods = scoped(
      'pod',
      (ns) => (ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods'),
      (ns) =>
        ns
          ? core.listNamespacedPod({ namespace: ns, fieldSelector: bound })
          : core.listPodForAllNamespaces({ fieldSelector: bound }),
      bound,
    );
    const appsPath = (plural: string) => (ns: string | undefined) =>
      ns ? `/apis/apps/v1/namespaces/${ns}/${plural}` : `/apis/apps/v1/${plural}`;
    this.deployments = scoped('deployment', appsPath('deployments'), (ns) =>
      ns ? apps.listNamespacedDeployment({ namespace: ns }) : apps.listDeploymentForAllNamespaces(),
    );
    this.replicaSets = scoped('replicaSet', appsPath('replicasets'), (ns) =>
      ns ? apps.listNamespacedReplicaSet({ namespace: ns }) : apps.listReplicaSetForAllNamespaces(),
    );
    this.daemonSets = scoped('daemonSet', appsPath('daemonsets'), (ns) =>
      ns ? apps.listNamespacedDaemonSet({ namespace: ns }) : apps.listDaemonSetForAllNamespaces(),
    );
    this.statefulSets = scoped('statefulSet', appsPath('statefulsets'), (ns) =>
      ns ? apps.listNamespacedStatefulSet({ namespace: ns }) : apps.listStatefulSetForAllNamespaces(),
    );
    const rolloutsPath = (ns: string | undefined) =>
      ns
        ? `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/namespaces/${ns}/${ROLLOUT_PLURAL}`
        : `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/${ROLLOUT_PLURAL}`;
    this.moduleRollouts = scoped('moduleRollout', rolloutsPath, async (ns) => {
      const request = { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL };
      // CustomObjectsApi returns untyped JSON: it is a list of ModuleRollouts by the CRD's schema.
      return (await (ns
        ? custom.listNamespacedCustomObject({ ...request, namespace: ns })
        : custom.listClusterCustomObject(request))) as KubernetesListObject<CacheObjects['moduleRollout']>;
    });
  }

  on<K extends CacheKind>(kind: K, listener: CacheListener<K>): void {
    const list = this.#listeners.get(kind) ?? [];
    list.push(listener);
    this.#listeners.set(kind, list);
  }

  /** Starts the watches; ModuleRollouts only when their CRD is installed. */
  async start(options: { withRollouts: boolean }): Promise<void> {
    this.#withRollouts = options.withRollouts;
    await Promise.all(this.#all().map((cache) => cache.start()));
    await Promise.all(this.#all().map((cache) => cache.synced()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all().map((cache) => cache.stop()));
  }

  #all() {
    const caches: { start(): Promise<void>; synced(): Promise<void>; stop(): Promise<void> }[] = [
      this.pods,
      this.deployments,
      this.replicaSets,
      this.daemonSets,
      this.statefulSets,
    ];
    if (this.#withRollouts) caches.push(this.moduleRollouts);
    return caches;
  }

  #emit(kind: CacheKind, event: InformerEvent, object: KubernetesObject): void {
    let previous: KubernetesObject | undefined;
    if (kind === 'pod') {
      const pod = object as V1Pod;
      previous = this.podIndex.get(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
      this.podIndex.apply(event, pod);
    }
    for (const listener of this.#listeners.get(kind) ?? []) {
      (
        listener as (
          event: InformerEvent,
          object: KubernetesObject,
          previous: KubernetesObject | undefined,
        ) => void
      )(event, object, previous);
    }
  }
}
