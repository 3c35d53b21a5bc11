import { describe, expect, it } from 'vitest';
import { BaseModules, IN_FLIGHT_TIMEOUT_MS, RECENTLY_GONE_MS } from '../../../core/module/base-modules.ts';
import type { BizState } from '../../../core/tunnel/protocol/biz-state.ts';
import type {
  BatchInstallEvent,
  BizStatus,
  InventoryEvent,
  OperationEvent,
} from '../../../core/tunnel/tunnel.ts';

const T0 = 1_800_000_000_000;
const BASE = 'base-1';

function item(bizName: string, bizVersion: string, state: BizState = 'ACTIVATED'): BizStatus {
  return {
    bizName,
    bizVersion,
    state,
    rawState: state.toLowerCase(),
    reason: undefined,
    message: undefined,
    changeTime: T0,
  };
}

function inventory(at: number, ...items: BizStatus[]): InventoryEvent {
  return { type: 'inventory', baseId: BASE, at, items };
}

interface OperationOptions {
  readonly success?: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly state?: BizState | undefined;
}

function install(
  bizName: string,
  bizVersion: string,
  at: number,
  options: OperationOptions = {},
): OperationEvent {
  const success = options.success ?? true;
  return {
    type: 'operation',
    baseId: BASE,
    at,
    command: 'installBiz',
    bizName,
    bizVersion,
    success,
    code: options.code ?? (success ? 'SUCCESS' : 'FAILED'),
    message: options.message ?? '',
    state: 'state' in options ? options.state : success ? 'ACTIVATED' : undefined,
  };
}

function uninstall(
  bizName: string,
  bizVersion: string,
  at: number,
  options: OperationOptions = {},
): OperationEvent {
  return { ...install(bizName, bizVersion, at, { ...options, state: undefined }), command: 'uninstallBiz' };
}

type BatchResult = BatchInstallEvent['results'][number];

function batch(at: number, ...results: BatchResult[]): BatchInstallEvent {
  return { type: 'batchInstall', baseId: BASE, at, results };
}

function result(bizUrl: string, overrides: Partial<BatchResult> = {}): BatchResult {
  return {
    bizUrl,
    bizName: undefined,
    bizVersion: undefined,
    success: true,
    code: 'SUCCESS',
    state: 'ACTIVATED',
    message: 'ok',
    ...overrides,
  };
}

const keys = (modules: BaseModules) => [...modules.inventory.keys()].sort();

describe('BaseModules inventory', () => {
  it('starts empty and unknown', () => {
    const modules = new BaseModules();
    expect(modules.inventory.size).toBe(0);
    expect(modules.inventoryKnown).toBe(false);
    expect(modules.lastReportAt).toBe(0);
  });

  it('takes an inventory as complete: what it lacks is gone, what it has replaces what was known', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1'), item('b', '1')), T0 + 5);
    modules.applyInventory(inventory(T0 + 1000, item('b', '1', 'DEACTIVATED'), item('c', '1')), T0 + 1005);
    expect(keys(modules)).toEqual(['b:1', 'c:1']);
    expect(modules.inventory.get('b:1')?.state).toBe('DEACTIVATED');
    expect(modules.inventoryKnown).toBe(true);
    expect(modules.lastReportAt).toBe(T0 + 1005);
  });

  it('knows the inventory after an empty report too', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0), T0);
    expect(modules.inventoryKnown).toBe(true);
    expect(modules.inventory.size).toBe(0);
  });

  it('does not let an inventory published before an install reply undo the install', () => {
    const modules = new BaseModules();
    modules.applyOperation(install('a', '1', T0 + 100), T0 + 110);
    modules.applyInventory(inventory(T0 + 50), T0 + 120);
    expect(modules.inventory.get('a:1')?.state).toBe('ACTIVATED');
  });

  it('does not let an older inventory overwrite the state an operation reported', () => {
    const modules = new BaseModules();
    modules.applyOperation(install('a', '1', T0 + 100, { state: 'DEACTIVATED' }), T0 + 110);
    modules.applyInventory(inventory(T0 + 50, item('a', '1', 'RESOLVED')), T0 + 120);
    expect(modules.inventory.get('a:1')?.state).toBe('DEACTIVATED');
  });

  it('does not let an inventory published before an uninstall reply bring the instance back', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.applyOperation(uninstall('a', '1', T0 + 100), T0 + 110);
    modules.applyInventory(inventory(T0 + 50, item('a', '1')), T0 + 120);
    expect(modules.inventory.has('a:1')).toBe(false);
  });

  it('lets an inventory published after an operation reply decide', () => {
    const modules = new BaseModules();
    modules.applyOperation(install('a', '1', T0 + 100), T0 + 110);
    modules.applyInventory(inventory(T0 + 200), T0 + 210);
    expect(modules.inventory.has('a:1')).toBe(false);
    modules.applyOperation(uninstall('b', '1', T0 + 300), T0 + 310);
    modules.applyInventory(inventory(T0 + 400, item('b', '1')), T0 + 410);
    expect(modules.inventory.has('b:1')).toBe(true);
  });
});

describe('BaseModules inventory changes', () => {
  it('says the first inventory changed what kmc knows, even when it is empty', () => {
    expect(new BaseModules().applyInventory(inventory(T0), T0)).toBe(true);
  });

  it('says an identical inventory changed nothing', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    expect(modules.applyInventory(inventory(T0 + 1000, item('a', '1')), T0 + 1000)).toBe(false);
  });

  it('says an inventory with another state, another key or a missing key changed what kmc knows', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    expect(modules.applyInventory(inventory(T0 + 1, item('a', '1', 'DEACTIVATED')), T0 + 1)).toBe(true);
    expect(
      modules.applyInventory(inventory(T0 + 2, item('a', '1', 'DEACTIVATED'), item('b', '1')), T0 + 2),
    ).toBe(true);
    expect(modules.applyInventory(inventory(T0 + 3, item('b', '1')), T0 + 3)).toBe(true);
  });

  it('says an inventory that settles an operation in flight changed what kmc knows', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.sent('a:1', 'install', T0);
    expect(modules.applyInventory(inventory(T0 + 1, item('a', '1')), T0 + 1)).toBe(true);
  });
});

describe('BaseModules after an install reply', () => {
  // The reply names the installed module only: a base that switches deactivated the old version, and says so in
  // the list kmc asks for right after.
  it('is not current until a complete report published after the reply arrives', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    expect(modules.inventoryCurrent).toBe(true);
    modules.applyOperation(install('a', '2', T0 + 100), T0 + 110);
    expect(modules.inventoryKnown).toBe(true);
    expect(modules.inventoryCurrent).toBe(false);
    // A list published before the reply does not settle it.
    modules.applyInventory(inventory(T0 + 50, item('a', '1')), T0 + 120);
    expect(modules.inventoryCurrent).toBe(false);
    modules.applyInventory(inventory(T0 + 200, item('a', '1', 'DEACTIVATED'), item('a', '2')), T0 + 210);
    expect(modules.inventoryCurrent).toBe(true);
    expect(modules.inventory.get('a:1')?.state).toBe('DEACTIVATED');
  });

  it('says the awaited list changed what kmc knows even when it repeats what the reply said', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.applyOperation(install('a', '2', T0 + 100), T0 + 110);
    const same = { ...item('a', '2'), reason: 'STARTED', message: '', changeTime: T0 + 100 };
    expect(modules.applyInventory(inventory(T0 + 200, item('a', '1'), same), T0 + 210)).toBe(true);
  });

  it('waits for nothing after a failed install, and nothing after a restart of the base', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0), T0);
    modules.applyOperation(install('a', '1', T0 + 100, { success: false }), T0 + 110);
    expect(modules.inventoryCurrent).toBe(true);
    modules.applyOperation(install('a', '2', T0 + 200), T0 + 210);
    modules.resetForNewProcess();
    modules.applyInventory(inventory(T0 + 100), T0 + 300);
    expect(modules.inventoryCurrent).toBe(true);
  });
});

describe('BaseModules operation replies', () => {
  it('records a successful install with the state the base reported, reason STARTED and the reply time', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'install', T0);
    modules.applyOperation(
      install('a', '1', T0 + 100, { message: 'installed', state: 'DEACTIVATED' }),
      T0 + 110,
    );
    expect(modules.inventory.get('a:1')).toEqual({
      bizName: 'a',
      bizVersion: '1',
      state: 'DEACTIVATED',
      rawState: 'DEACTIVATED',
      reason: 'STARTED',
      message: 'installed',
      changeTime: T0 + 100,
    });
    expect(modules.inFlight.has('a:1')).toBe(false);
    expect(modules.lastReportAt).toBe(T0 + 110);
  });

  it('takes a successful install that names no state as ACTIVATED', () => {
    const modules = new BaseModules();
    modules.applyOperation(install('a', '1', T0, { state: undefined }), T0);
    expect(modules.inventory.get('a:1')?.state).toBe('ACTIVATED');
  });

  it('records REPEAT_BIZ for an instance it did not know as present in an unknown state', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'install', T0);
    modules.applyOperation(
      install('a', '1', T0 + 100, { success: false, code: 'REPEAT_BIZ', message: 'already there' }),
      T0 + 110,
    );
    expect(modules.inventory.get('a:1')).toEqual({
      bizName: 'a',
      bizVersion: '1',
      state: undefined,
      rawState: 'unknown',
      reason: 'REPEAT_BIZ',
      message: 'already there',
      changeTime: T0 + 100,
    });
    expect(modules.inFlight.has('a:1')).toBe(false);
  });

  it('keeps what it knows of an instance when an install of it answers REPEAT_BIZ', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1', 'DEACTIVATED')), T0);
    modules.applyOperation(install('a', '1', T0 + 100, { success: false, code: 'REPEAT_BIZ' }), T0 + 110);
    expect(modules.inventory.get('a:1')).toEqual(item('a', '1', 'DEACTIVATED'));
  });

  it("records a failed install as BROKEN with the base's code and message", () => {
    const modules = new BaseModules();
    modules.applyOperation(
      install('a', '1', T0, { success: false, code: 'FAILED', message: 'ClassNotFoundException' }),
      T0,
    );
    expect(modules.inventory.get('a:1')).toMatchObject({
      state: 'BROKEN',
      rawState: 'BROKEN',
      reason: 'FAILED',
      message: 'ClassNotFoundException',
    });
  });

  it('names a failed install without a code INSTALL_FAILED', () => {
    const modules = new BaseModules();
    modules.applyOperation(install('a', '1', T0, { success: false, code: '' }), T0);
    expect(modules.inventory.get('a:1')?.reason).toBe('INSTALL_FAILED');
  });

  it('forgets an uninstalled instance and remembers it as recently gone', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.sent('a:1', 'uninstall', T0 + 1);
    modules.uninstallFailedAt.set('a:1', T0 - 1000);
    modules.applyOperation(uninstall('a', '1', T0 + 100), T0 + 110);
    expect(modules.inventory.has('a:1')).toBe(false);
    expect(modules.recentlyGone.get('a:1')).toBe(T0 + 110);
    expect(modules.uninstallFailedAt.has('a:1')).toBe(false);
    expect(modules.inFlight.has('a:1')).toBe(false);
  });

  it('treats NOT_FOUND_BIZ on uninstall as gone', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.applyOperation(
      uninstall('a', '1', T0 + 100, { success: false, code: 'NOT_FOUND_BIZ' }),
      T0 + 110,
    );
    expect(modules.inventory.has('a:1')).toBe(false);
    expect(modules.recentlyGone.get('a:1')).toBe(T0 + 110);
  });

  it('keeps an instance whose uninstall failed and remembers when it failed', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.sent('a:1', 'uninstall', T0 + 1);
    modules.applyOperation(uninstall('a', '1', T0 + 100, { success: false, code: 'FAILED' }), T0 + 110);
    expect(modules.inventory.has('a:1')).toBe(true);
    expect(modules.uninstallFailedAt.get('a:1')).toBe(T0 + 110);
    expect(modules.recentlyGone.has('a:1')).toBe(false);
    expect(modules.inFlight.has('a:1')).toBe(false);
  });
});

describe('BaseModules batch install results', () => {
  it('names a result from its bizInfos', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'install', T0);
    modules.applyBatchInstall(
      batch(T0 + 100, result('https://repo.example/a.jar', { bizName: 'a', bizVersion: '1' })),
      T0 + 110,
    );
    expect(modules.inventory.get('a:1')).toEqual({
      bizName: 'a',
      bizVersion: '1',
      state: 'ACTIVATED',
      rawState: 'ACTIVATED',
      reason: 'STARTED',
      message: 'ok',
      changeTime: T0 + 100,
    });
    expect(modules.inFlight.has('a:1')).toBe(false);
    expect(modules.lastReportAt).toBe(T0 + 110);
  });

  it('names a result without bizInfos by the jar URL of the last baseline', () => {
    const modules = new BaseModules();
    modules.baselineUrls.set('https://repo.example/b.jar', 'b:2');
    modules.applyBatchInstall(
      batch(
        T0,
        result('https://repo.example/b.jar', {
          success: false,
          code: 'FAILED',
          state: undefined,
          message: 'x',
        }),
      ),
      T0,
    );
    expect(modules.inventory.get('b:2')).toMatchObject({
      bizName: 'b',
      bizVersion: '2',
      state: 'BROKEN',
      reason: 'FAILED',
      message: 'x',
    });
  });

  it('takes a successful result that names no state as ACTIVATED, and its reported state otherwise', () => {
    const modules = new BaseModules();
    modules.applyBatchInstall(
      batch(
        T0,
        result('https://repo.example/a.jar', { bizName: 'a', bizVersion: '1', state: undefined }),
        result('https://repo.example/b.jar', { bizName: 'b', bizVersion: '1', state: 'DEACTIVATED' }),
      ),
      T0,
    );
    expect(modules.inventory.get('a:1')?.state).toBe('ACTIVATED');
    expect(modules.inventory.get('b:1')?.state).toBe('DEACTIVATED');
  });

  it('names a failure without a code INSTALL_FAILED', () => {
    const modules = new BaseModules();
    modules.applyBatchInstall(
      batch(
        T0,
        result('https://repo.example/a.jar', { bizName: 'a', bizVersion: '1', success: false, code: '' }),
      ),
      T0,
    );
    expect(modules.inventory.get('a:1')).toMatchObject({ state: 'BROKEN', reason: 'INSTALL_FAILED' });
  });

  it('skips a result it cannot name', () => {
    const modules = new BaseModules();
    modules.applyBatchInstall(batch(T0, result('https://repo.example/unknown.jar')), T0);
    expect(modules.inventory.size).toBe(0);
    expect(modules.lastReportAt).toBe(T0);
  });

  it('does not let an inventory published before the batch reply undo it', () => {
    const modules = new BaseModules();
    modules.applyBatchInstall(
      batch(T0 + 100, result('https://repo.example/a.jar', { bizName: 'a', bizVersion: '1' })),
      T0 + 110,
    );
    modules.applyInventory(inventory(T0 + 50), T0 + 120);
    expect(modules.inventory.has('a:1')).toBe(true);
  });
});

describe('BaseModules new base process', () => {
  it('forgets inventory and in-flight operations and no longer knows the inventory', () => {
    const modules = new BaseModules();
    modules.applyInventory(inventory(T0, item('a', '1')), T0);
    modules.sent('b:1', 'install', T0);
    modules.resetForNewProcess();
    expect(modules.inventory.size).toBe(0);
    expect(modules.inventoryKnown).toBe(false);
    expect(modules.inFlight.size).toBe(0);
  });

  it('forgets operation times, so the next inventory of the new process is taken as it is', () => {
    const modules = new BaseModules();
    modules.applyOperation(install('a', '1', T0 + 100), T0 + 110);
    modules.resetForNewProcess();
    modules.applyInventory(inventory(T0 + 50, item('b', '1')), T0 + 120);
    expect(keys(modules)).toEqual(['b:1']);
  });
});

describe('BaseModules in-flight operations', () => {
  it('settles an install in flight once the inventory shows the instance ACTIVATED', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'install', T0);
    modules.applyInventory(inventory(T0 + 100, item('a', '1', 'RESOLVED')), T0 + 100);
    expect(modules.inFlight.get('a:1')).toEqual({ op: 'install', sentAt: T0 });
    modules.applyInventory(inventory(T0 + 200), T0 + 200);
    expect(modules.inFlight.has('a:1')).toBe(true);
    modules.applyInventory(inventory(T0 + 300, item('a', '1', 'ACTIVATED')), T0 + 300);
    expect(modules.inFlight.has('a:1')).toBe(false);
  });

  it('settles an uninstall in flight once the inventory no longer shows the instance', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'uninstall', T0);
    modules.applyInventory(inventory(T0 + 100, item('a', '1')), T0 + 100);
    expect(modules.inFlight.get('a:1')).toEqual({ op: 'uninstall', sentAt: T0 });
    modules.applyInventory(inventory(T0 + 200), T0 + 200);
    expect(modules.inFlight.has('a:1')).toBe(false);
  });

  it('forgets an operation that was never answered only after the in-flight timeout', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'install', T0);
    modules.expire(T0 + IN_FLIGHT_TIMEOUT_MS);
    expect(modules.inFlight.has('a:1')).toBe(true);
    modules.expire(T0 + IN_FLIGHT_TIMEOUT_MS + 1);
    expect(modules.inFlight.has('a:1')).toBe(false);
  });

  it('forgets a recently gone key only after RECENTLY_GONE_MS', () => {
    const modules = new BaseModules();
    modules.applyOperation(uninstall('a', '1', T0), T0);
    modules.expire(T0 + RECENTLY_GONE_MS);
    expect(modules.recentlyGone.has('a:1')).toBe(true);
    modules.expire(T0 + RECENTLY_GONE_MS + 1);
    expect(modules.recentlyGone.has('a:1')).toBe(false);
  });

  it('replaces an older in-flight record of the same key', () => {
    const modules = new BaseModules();
    modules.sent('a:1', 'install', T0);
    modules.sent('a:1', 'uninstall', T0 + 5);
    expect(modules.inFlight.get('a:1')).toEqual({ op: 'uninstall', sentAt: T0 + 5 });
  });
});
