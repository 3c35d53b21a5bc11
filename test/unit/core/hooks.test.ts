import { describe, expect, it } from 'vitest';
import { PluginError } from '../../../core/errors.ts';
import { createHooks } from '../../../core/hooks.ts';

describe('hooks', () => {
  it('are frozen: no hook can be added or replaced', () => {
    const hooks = createHooks();
    expect(Object.isFrozen(hooks)).toBe(true);
  });

  it('turn a throwing sync tap into a PluginError naming plugin and hook', () => {
    const hooks = createHooks();
    hooks.validate.tap('broken-plugin', () => {
      throw new Error('bad option');
    });
    let caught: unknown;
    try {
      hooks.validate.call();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PluginError);
    expect(caught).toMatchObject({ pluginName: 'broken-plugin', hook: 'validate' });
    expect((caught as Error).message).toBe('plugin "broken-plugin" failed in hook "validate": bad option');
  });

  it('turn a rejecting promise tap into a PluginError', async () => {
    const hooks = createHooks();
    hooks.holdInstall.tapPromise('gate', () => Promise.reject(new Error('webhook down')));
    await expect(hooks.holdInstall.promise({}, {} as never)).rejects.toMatchObject({
      name: 'PluginError',
      pluginName: 'gate',
      hook: 'holdInstall',
    });
  });

  it('turn a callback-style failure into a PluginError', async () => {
    const hooks = createHooks();
    hooks.initialize.tapAsync('cb', (callback) => {
      callback(new Error('nope'));
    });
    await expect(hooks.initialize.promise()).rejects.toMatchObject({ pluginName: 'cb', hook: 'initialize' });
  });

  it('bail at the first Hold, in tap order', async () => {
    const hooks = createHooks();
    const called: string[] = [];
    hooks.holdInstall.tapPromise('a', () => {
      called.push('a');
      return Promise.resolve(undefined);
    });
    hooks.holdInstall.tapPromise('b', () => {
      called.push('b');
      return Promise.resolve({ reason: 'BatchFull', message: 'batch 1 is full' });
    });
    hooks.holdInstall.tapPromise('c', () => {
      called.push('c');
      return Promise.resolve(undefined);
    });
    expect(await hooks.holdInstall.promise({}, {} as never)).toEqual({
      reason: 'BatchFull',
      message: 'batch 1 is full',
    });
    expect(called).toEqual(['a', 'b']);
  });

  it('pass each waterfall result to the next tap', () => {
    const hooks = createHooks();
    hooks.planBatches.tap('double', (plan) => ({ targets: plan.targets.map((t) => t * 2) }));
    hooks.planBatches.tap('first-one', (plan) => ({ targets: [1, ...plan.targets] }));
    expect(hooks.planBatches.call({ targets: [2, 5] }, {} as never)).toEqual({ targets: [1, 4, 10] });
  });
});
