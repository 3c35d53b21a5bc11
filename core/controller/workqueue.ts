import { ExponentialBackoff } from './rate-limiter.ts';

/**
 * A work queue with client-go semantics, the heart of every controller here:
 * - a key added while already queued is queued once (dirty set);
 * - a key is never handed to two workers at once (processing set); re-added while processing, it runs again
 *   after `done()`;
 * - delayed adds (`addAfter`) and per-key exponential backoff (`addRateLimited`).
 * Keys are strings ("namespace/name", a node name, ...). Level-triggered: a key says "look at this again",
 * never what happened.
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #backoff: ExponentialBackoff;
  #shuttingDown = false;
  #adds = 0;

  constructor(options: { backoff?: ExponentialBackoff } = {}) {
    this.#backoff = options.backoff ?? new ExponentialBackoff();
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#adds += 1;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#queue.push(key);
    }
  }

  /** Adds `key` after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.#backoff.when(key));
  }

  forget(key: string): void {
    this.#backoff.forget(key);
  }

  numRequeues(key: string): number {
    return this.#backoff.failures(key);
  }

  /** Resolves with the next key (now marked processing), or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  get length(): number {
    return this.#queue.length;
  }

  get totalAdds(): number {
    return this.#adds;
  }

  get processing(): number {
    return this.#processing.size;
  }

  /** Stops accepting keys and releases idle workers; queued keys are dropped (state is level-based). */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#queue.length = 0;
    this.#dirty.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }
}
