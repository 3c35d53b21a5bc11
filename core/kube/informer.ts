import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  readonly kc: KubeConfig;
  /** Watch path, e.g. `/api/v1/pods` or `/apis/apps/v1/namespaces/ns/deployments`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly logger: Logger;
  /** Called synchronously for every change; must only record or enqueue (client-node swallows throws). */
  readonly onEvent?: (event: InformerEvent, object: T) => void;
}

/**
 * A cache of Kubernetes objects kept current by list + watch, with what client-node's ListWatch lacks:
 * - `synced()` resolves only once a list has actually succeeded (ListWatch.start() also resolves on failure);
 * - after an error (a failed list, a watch error) the informer restarts with backoff instead of going quiet.
 * Handlers run synchronously and only enqueue; reconcilers read the cache.
 */
export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>;
  readonly #listWatch: ListWatch<T>;
  #stopping = false;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #restartDelayMs = 1_000;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    const list = async () => {
      const result = await options.list();
      this.#markSynced();
      return result;
    };
    this.#listWatch = new ListWatch<T>(
      options.path,
      new Watch(options.kc),
      list,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    const emit = (event: InformerEvent) => (object: T) => {
      try {
        options.onEvent?.(event, object);
      } catch (error) {
        options.logger.error({ err: error, path: options.path }, 'informer handler threw');
      }
    };
    this.#listWatch.on('add', emit('add'));
    this.#listWatch.on('update', emit('update'));
    this.#listWatch.on('delete', emit('delete'));
    this.#listWatch.on('error', (error) => {
      this.#onError(error);
    });
  }

  async start(): Promise<void> {
    this.#stopping = false;
    await this.#listWatch.start();
  }

  /** Resolves once the cache holds a complete list. */
  synced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#listWatch.list(namespace);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    await this.#listWatch.stop();
  }

  #markSynced(): void {
    this.#synced = true;
    this.#restartDelayMs = 1_000;
    for (const waiter of this.#syncWaiters.splice(0)) waiter();
  }

  #onError(error: unknown): void {
    // stop() aborts the watch, which reports an AbortError: that is us, not a failure.
    if (this.#stopping || (error instanceof Error && error.name === 'AbortError')) return;
    this.#options.logger.warn(
      {
        path: this.#options.path,
        err: error instanceof Error ? error.message : String(error),
        retryInMs: this.#restartDelayMs,
      },
      'informer failed; restarting',
    );
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (!this.#stopping) void this.#listWatch.start();
    }, this.#restartDelayMs);
    this.#restartTimer.unref();
    this.#restartDelayMs = Math.min(this.#restartDelayMs * 2, 30_000);
  }
}
