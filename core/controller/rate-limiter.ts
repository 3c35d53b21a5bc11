/**
 * Per-key exponential backoff with jitter (client-go's ItemExponentialFailureRateLimiter): the n-th failure of
 * a key waits base·2ⁿ, capped, ±10 % so keys failing together do not retry in lockstep.
 */
export class ExponentialBackoff {
  readonly #failures = new Map<string, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;

  constructor(options: { baseMs?: number; maxMs?: number; random?: () => number } = {}) {
    this.#baseMs = options.baseMs ?? 5;
    this.#maxMs = options.maxMs ?? 300_000;
    this.#random = options.random ?? Math.random;
  }

  /** Delay before the next retry of `key`, and count this failure. */
  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const raw = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(failures, 40));
    const jitter = 1 + (this.#random() * 0.2 - 0.1);
    return Math.min(this.#maxMs, Math.round(raw * jitter));
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }
}
