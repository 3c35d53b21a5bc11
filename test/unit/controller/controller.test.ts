import { describe, expect, it } from 'vitest';
import { Controller } from '../../../core/controller/controller.ts';
import { ExponentialBackoff } from '../../../core/controller/rate-limiter.ts';
import { WorkQueue } from '../../../core/controller/workqueue.ts';
import { TerminalError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { waitFor } from '../../support/wait-for.ts';

describe('controller', () => {
  it('retries a failing key with backoff until it succeeds, and never runs one key twice at once', async () => {
    let attempts = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const controller = new Controller({
      name: 'test',
      logger: silentLogger(),
      workers: 4,
      queue: new WorkQueue({ backoff: new ExponentialBackoff({ baseMs: 1, maxMs: 5 }) }),
      reconcile: async () => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 2));
        concurrent -= 1;
        attempts += 1;
        if (attempts < 3) throw new Error('transient');
        return undefined;
      },
    });
    controller.start();
    for (let i = 0; i < 5; i += 1) controller.enqueue('k');
    await waitFor(() => attempts >= 3, { description: 'three attempts', timeoutMs: 5_000 });
    await controller.stop();
    expect(maxConcurrent).toBe(1);
  });

  it('does not retry a TerminalError', async () => {
    let attempts = 0;
    const controller = new Controller({
      name: 'test',
      logger: silentLogger(),
      queue: new WorkQueue({ backoff: new ExponentialBackoff({ baseMs: 1, maxMs: 1 }) }),
      reconcile: () => {
        attempts += 1;
        return Promise.reject(new TerminalError('bad input'));
      },
    });
    const results: string[] = [];
    const observed = new Controller({
      name: 'observed',
      logger: silentLogger(),
      observer: { reconciled: (_name, result) => results.push(result) },
      reconcile: () => Promise.reject(new TerminalError('bad input')),
    });
    controller.start();
    observed.start();
    controller.enqueue('k');
    observed.enqueue('k');
    await waitFor(() => results.length === 1 && attempts === 1, { description: 'one attempt each' });
    expect(results).toEqual(['terminal']);
    expect(controller.queue.length).toBe(0);
    await controller.stop();
    await observed.stop();
  });

  it('requeues after the delay a reconcile asks for', async () => {
    const seen: number[] = [];
    const controller = new Controller({
      name: 'test',
      logger: silentLogger(),
      reconcile: () => {
        seen.push(Date.now());
        return Promise.resolve(seen.length < 2 ? { requeueAfterMs: 50 } : undefined);
      },
    });
    controller.start();
    controller.enqueue('k');
    await waitFor(() => seen.length === 2, { description: 'second reconcile' });
    expect((seen[1] ?? 0) - (seen[0] ?? 0)).toBeGreaterThanOrEqual(45);
    await controller.stop();
  });
});
