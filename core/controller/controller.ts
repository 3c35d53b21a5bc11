import { TerminalError, describeError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  /** Look at this key again after this long, even if nothing changes (timers: gray time, silence). */
  readonly requeueAfterMs?: number;
}

/**
 * Level-based, idempotent: given a key, make the world match what the caches say it should be. Must not
 * assume which event caused the call. Throwing requeues with backoff; TerminalError is logged, not retried.
 */
export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

export interface ControllerObserver {
  reconciled?(controller: string, result: 'success' | 'requeue' | 'error' | 'terminal', ms: number): void;
  /** Keys waiting in the queue, after each key is taken. */
  depth?(controller: string, depth: number): void;
}

export interface ControllerOptions {
  readonly name: string;
  readonly reconcile: Reconciler;
  readonly workers?: number;
  readonly logger: Logger;
  readonly observer?: ControllerObserver;
  readonly queue?: WorkQueue;
  /** Errors that are expected and retried quietly (conflicts, not-yet-synced caches): logged at debug. */
  readonly isQuiet?: (error: unknown) => boolean;
}

/**
 * Runs `workers` loops that take keys off the queue and reconcile them; a key is never reconciled by two
 * workers at once (the queue guarantees it), different keys run concurrently.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.queue = options.queue ?? new WorkQueue();
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    const count = this.#options.workers ?? 4;
    for (let i = 0; i < count; i += 1) this.#workers.push(this.#work());
  }

  /** Stops taking keys, aborts reconciles in flight and waits for the workers to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    this.#abort.abort();
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  async #work(): Promise<void> {
    const { logger, reconcile, observer } = this.#options;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      observer?.depth?.(this.name, this.queue.length);
      const started = Date.now();
      try {
        const result = await reconcile(key, this.#abort.signal);
        if (result?.requeueAfterMs !== undefined) {
          this.queue.forget(key);
          this.queue.addAfter(key, result.requeueAfterMs);
          observer?.reconciled?.(this.name, 'requeue', Date.now() - started);
        } else {
          this.queue.forget(key);
          observer?.reconciled?.(this.name, 'success', Date.now() - started);
        }
      } catch (error) {
        if (this.#abort.signal.aborted) {
          // shutting down: nothing to retry
        } else if (error instanceof TerminalError) {
          logger.error({ key, err: describeError(error) }, 'reconcile failed permanently');
          observer?.reconciled?.(this.name, 'terminal', Date.now() - started);
        } else {
          const quiet = this.#options.isQuiet?.(error) ?? false;
          logger[quiet ? 'debug' : 'warn'](
            { key, err: describeError(error), retries: this.queue.numRequeues(key) },
            'reconcile failed; will retry',
          );
          this.queue.addRateLimited(key);
          observer?.reconciled?.(this.name, 'error', Date.now() - started);
        }
      } finally {
        this.queue.done(key);
      }
    }
  }
}
