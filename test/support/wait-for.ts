/**
 * Polls a condition until it holds or a deadline passes. Tests synchronise on observable conditions only,
 * never on fixed sleeps: the interval below is a polling cadence, not a synchronisation point.
 */
export interface WaitForOptions {
  /** What is awaited, for the timeout message. */
  readonly description: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/**
 * Resolves with the first truthy value `probe` returns. A probe that throws counts as "not yet"; the last
 * error is attached to the timeout so a failing test says why the condition never held.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { description, timeoutMs = 30_000, intervalMs = 100 }: WaitForOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      lastValue = value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail =
        lastError instanceof Error
          ? `; last error: ${lastError.message}`
          : `; last value: ${String(lastValue)}`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${description}${detail}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
