import type { Tunnel } from '../tunnel/tunnel.ts';

/**
 * Asks every live base for its health and its module list on a fixed period each (upstream: 10 s and 15 s),
 * spread over time. Only the leader polls. A poll that cannot be sent (broker down) is simply skipped.
 */
export class BasePoller {
  readonly #tunnel: Tunnel;
  readonly #healthMs: number;
  readonly #bizMs: number;
  readonly #next = new Map<string, { health: number; biz: number }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(tunnel: Tunnel, healthMs: number, bizMs: number) {
    this.#tunnel = tunnel;
    this.#healthMs = healthMs;
    this.#bizMs = bizMs;
  }

  /** Polls this base from now on, the first time after a random part of each period. */
  track(baseId: string): void {
    if (this.#next.has(baseId)) return;
    const now = Date.now();
    this.#next.set(baseId, {
      health: now + Math.random() * this.#healthMs,
      biz: now + Math.random() * this.#bizMs,
    });
  }

  untrack(baseId: string): void {
    this.#next.delete(baseId);
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.#tick();
    }, 500);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (!this.#tunnel.connected) return;
    const now = Date.now();
    for (const [baseId, next] of this.#next) {
      if (next.health <= now) {
        next.health = now + this.#healthMs;
        this.#tunnel.queryHealth(baseId).catch(() => undefined);
      }
      if (next.biz <= now) {
        next.biz = now + this.#bizMs;
        this.#tunnel.queryAllBiz(baseId).catch(() => undefined);
      }
    }
  }
}
