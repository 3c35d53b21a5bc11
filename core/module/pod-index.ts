import type { V1Pod } from '@kubernetes/client-node';
import type { InformerEvent } from '../kube/informer.ts';

/**
 * Pods by node and by owner, kept in step with the pod informer, so a base's reconcile touches only its own
 * pods and a workload's facts only its own — never a scan of every pod in the cluster.
 */
export class PodIndex {
  readonly #byKey = new Map<string, V1Pod>();
  readonly #byNode = new Map<string, Set<string>>();
  readonly #byOwner = new Map<string, Set<string>>();

  apply(event: InformerEvent, pod: V1Pod): { previousNode: string | undefined } {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    const previous = this.#byKey.get(key);
    const previousNode = previous?.spec?.nodeName;
    if (previous) this.#unlink(key, previous);
    if (event === 'delete') {
      this.#byKey.delete(key);
    } else {
      this.#byKey.set(key, pod);
      this.#link(key, pod);
    }
    return { previousNode };
  }

  onNode(nodeName: string): V1Pod[] {
    return [...(this.#byNode.get(nodeName) ?? [])].flatMap((key) => this.#byKey.get(key) ?? []);
  }

  byOwner(ownerUid: string): V1Pod[] {
    return [...(this.#byOwner.get(ownerUid) ?? [])].flatMap((key) => this.#byKey.get(key) ?? []);
  }

  get(key: string): V1Pod | undefined {
    return this.#byKey.get(key);
  }

  #link(key: string, pod: V1Pod): void {
    const node = pod.spec?.nodeName;
    if (node) add(this.#byNode, node, key);
    for (const owner of pod.metadata?.ownerReferences ?? [])
      if (owner.controller) add(this.#byOwner, owner.uid, key);
  }

  #unlink(key: string, pod: V1Pod): void {
    const node = pod.spec?.nodeName;
    if (node) remove(this.#byNode, node, key);
    for (const owner of pod.metadata?.ownerReferences ?? [])
      if (owner.controller) remove(this.#byOwner, owner.uid, key);
  }
}

function add(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set();
  set.add(value);
  map.set(key, set);
}

function remove(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
