import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from '../../../core/controller/rate-limiter.ts';
import { WorkQueue } from '../../../core/controller/workqueue.ts';

describe('work queue', () => {
  it('queues a key added twice only once', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('never hands a key that is being processed to a second worker; a re-add runs after done()', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a'); // arrives while a worker holds "a"
    expect(queue.length).toBe(0);
    const second = queue.get();
    let handed = false;
    void second.then(() => (handed = true));
    await Promise.resolve();
    expect(handed).toBe(false);
    queue.done(first ?? '');
    expect(await second).toBe('a');
  });

  it('hands a key straight to a waiting worker', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    expect(await waiting).toBe('x');
  });

  it('delays addAfter keys and keeps the earliest of two delayed adds', async () => {
    const queue = new WorkQueue();
    queue.addAfter('k', 10_000);
    queue.addAfter('k', 20);
    const started = Date.now();
    expect(await queue.get()).toBe('k');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('releases waiting workers with undefined on shutdown and accepts no more keys', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('late');
    expect(queue.length).toBe(0);
  });
});

describe('exponential backoff', () => {
  it('doubles per failure of a key, within ±10 % jitter, up to the cap, and resets on forget', () => {
    const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 1_000, random: () => 0.5 });
    expect([
      backoff.when('k'),
      backoff.when('k'),
      backoff.when('k'),
      backoff.when('k'),
      backoff.when('k'),
    ]).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoff.when('other')).toBe(100);
    backoff.forget('k');
    expect(backoff.when('k')).toBe(100);
    const jittered = new ExponentialBackoff({ baseMs: 100, random: () => 0.99 }).when('j');
    expect(jittered).toBeGreaterThan(100);
    expect(jittered).toBeLessThanOrEqual(110);
  });
});
