/**
 * The bizs registered in one simulated base process, with SOFAArk's state records and its activation rules
 * per mode. Pure: every change is returned as a {@link BizChange} stamped with the time it was given.
 */
import type { BizState, StateChangeReason } from '../tunnel/protocol/biz-state.ts';
import { defaultMainClass, type ActivationMode } from './sim-config.ts';

export interface BizRecord {
  readonly changeTime: number;
  readonly state: BizState;
  readonly reason: StateChangeReason;
  readonly message: string | null;
}

export interface SimBiz {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
  readonly webContextPath: string;
  readonly mainClass: string;
  /** Statically merged into the base, or installed by a command. */
  readonly origin: 'static' | 'installed';
  readonly state: BizState;
  /** Oldest first; empty when the base keeps no records. */
  readonly records: readonly BizRecord[];
}

/** One biz version changed state; `undefined` means not registered (before install, after uninstall). */
export interface BizChange {
  readonly at: number;
  readonly bizName: string;
  readonly bizVersion: string;
  readonly from: BizState | undefined;
  readonly to: BizState | undefined;
}

export interface NewBiz {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl?: string | undefined;
  readonly webContextPath?: string | undefined;
  readonly mainClass?: string | undefined;
  readonly origin: SimBiz['origin'];
}

export function bizKey(bizName: string, bizVersion: string): string {
  return `${bizName}:${bizVersion}`;
}

export class BizInventory {
  private readonly bizs = new Map<string, SimBiz>();
  private readonly recordStates: boolean;

  constructor(recordStates: boolean) {
    this.recordStates = recordStates;
  }

  get(bizName: string, bizVersion: string): SimBiz | undefined {
    return this.bizs.get(bizKey(bizName, bizVersion));
  }

  /** In registration order, which is SOFAArk's order of the biz list. */
  list(): readonly SimBiz[] {
    return [...this.bizs.values()];
  }

  /** SOFAArk's createBiz + registerBiz: RESOLVED, reason CREATED. */
  register(biz: NewBiz, now: number): BizChange {
    const registered: SimBiz = {
      bizName: biz.bizName,
      bizVersion: biz.bizVersion,
      bizUrl: biz.bizUrl ?? '',
      webContextPath: biz.webContextPath ?? biz.bizName,
      mainClass: biz.mainClass ?? defaultMainClass(biz.bizName),
      origin: biz.origin,
      state: 'RESOLVED',
      records: this.recordStates
        ? [{ changeTime: now, state: 'RESOLVED', reason: 'CREATED', message: null }]
        : [],
    };
    this.bizs.set(bizKey(biz.bizName, biz.bizVersion), registered);
    return { at: now, bizName: biz.bizName, bizVersion: biz.bizVersion, from: undefined, to: 'RESOLVED' };
  }

  transition(
    bizName: string,
    bizVersion: string,
    state: BizState,
    reason: StateChangeReason,
    message: string | null,
    now: number,
  ): BizChange | undefined {
    const key = bizKey(bizName, bizVersion);
    const biz = this.bizs.get(key);
    if (biz === undefined) return undefined;
    const record: BizRecord = { changeTime: now, state, reason, message };
    this.bizs.set(key, { ...biz, state, records: this.recordStates ? [...biz.records, record] : [] });
    return { at: now, bizName, bizVersion, from: biz.state, to: state };
  }

  remove(bizName: string, bizVersion: string, now: number): BizChange | undefined {
    const key = bizKey(bizName, bizVersion);
    const biz = this.bizs.get(key);
    if (biz === undefined) return undefined;
    this.bizs.delete(key);
    return { at: now, bizName, bizVersion, from: biz.state, to: undefined };
  }

  /** Everything goes at once: the process is gone. */
  clear(now: number): BizChange[] {
    const changes = this.list().map((biz) => ({
      at: now,
      bizName: biz.bizName,
      bizVersion: biz.bizVersion,
      from: biz.state,
      to: undefined,
    }));
    this.bizs.clear();
    return changes;
  }

  /**
   * A biz finished starting. The new version's change comes first, so a switch never shows an instant with
   * no ACTIVATED version.
   */
  activate(bizName: string, bizVersion: string, mode: ActivationMode, now: number): BizChange[] {
    const others = this.list().filter(
      (biz) => biz.bizName === bizName && biz.bizVersion !== bizVersion && biz.state === 'ACTIVATED',
    );
    if (mode === 'install-deactivated' && others.length > 0) {
      return compact([this.transition(bizName, bizVersion, 'DEACTIVATED', 'STARTED', null, now)]);
    }
    const activated = this.transition(bizName, bizVersion, 'ACTIVATED', 'STARTED', null, now);
    if (mode !== 'switch') return compact([activated]);
    return compact([
      activated,
      ...others.map((old) =>
        this.transition(old.bizName, old.bizVersion, 'DEACTIVATED', 'SWITCHED', null, now),
      ),
    ]);
  }
}

function compact(changes: readonly (BizChange | undefined)[]): BizChange[] {
  return changes.filter((change) => change !== undefined);
}
