import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Informer, type InformerOptions } from './informer.ts';

/** What readers of a cache need: lookups by name and namespace, and lists. */
export interface ObjectCache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/**
 * One informer per watched namespace, or one cluster-wide informer when every namespace is watched, behind one
 * cache. Scoped watches are what a namespaced Role allows (watch.namespaces).
 */
export class ScopedInformers<T extends KubernetesObject> implements ObjectCache<T> {
  readonly #byNamespace = new Map<string | undefined, Informer<T>>();

  constructor(
    namespaces: readonly string[],
    make: (namespace: string | undefined) => Omit<InformerOptions<T>, 'list' | 'path'> & {
      readonly path: string;
      readonly list: () => Promise<KubernetesListObject<T>>;
    },
  ) {
    for (const namespace of namespaces.length > 0 ? namespaces : [undefined]) {
      this.#byNamespace.set(namespace, new Informer<T>(make(namespace)));
    }
  }

  get informers(): Informer<T>[] {
    return [...this.#byNamespace.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    const scoped = this.#byNamespace.get(namespace) ?? this.#byNamespace.get(undefined);
    return scoped?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    if (namespace !== undefined) {
      const scoped = this.#byNamespace.get(namespace) ?? this.#byNamespace.get(undefined);
      return scoped?.list(namespace) ?? [];
    }
    return this.informers.flatMap((informer) => informer.list());
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.start()));
  }

  async synced(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.synced()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }
}
