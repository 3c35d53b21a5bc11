import { describe, expect, it } from 'vitest';
import { BaseModules } from '../../../core/module/base-modules.ts';
import type { OperationEvent } from '../../../core/tunnel/tunnel.ts';

const T0 = 1_800_000_000_000;

function uninstalled(at: number): OperationEvent {
  return {
    type: 'operation',
    baseId: 'base-1',
    at,
    command: 'uninstallBiz',
    bizName: 'a',
    bizVersion: '1',
    success: true,
    code: 'SUCCESS',
    message: '',
    state: undefined,
  };
}

describe('BaseModules: a module installed again after an uninstall', () => {
  it('is no longer "recently gone", so deleting its new pod uninstalls it at once', () => {
    const modules = new BaseModules();
    modules.applyOperation(uninstalled(T0), T0);
    expect(modules.recentlyGone.has('a:1')).toBe(true);
    // Within RECENTLY_GONE_MS the same module is installed again for a new pod.
    modules.sent('a:1', 'install', T0 + 5_000);
    expect(modules.recentlyGone.has('a:1')).toBe(false);
  });

  it('stays recently gone when only an uninstall is sent again', () => {
    const modules = new BaseModules();
    modules.applyOperation(uninstalled(T0), T0);
    modules.sent('a:1', 'uninstall', T0 + 5_000);
    expect(modules.recentlyGone.has('a:1')).toBe(true);
  });
});
