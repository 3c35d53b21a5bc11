import type { BizState } from '../tunnel/protocol/biz-state.ts';
import type { BatchInstallEvent, BizStatus, InventoryEvent, OperationEvent } from '../tunnel/tunnel.ts';
import { moduleKey, parseModuleKey } from './module-pod.ts';

export interface InFlight {
  readonly op: 'install' | 'uninstall';
  readonly sentAt: number;
}

/** A base has been asked to do something and has not answered within this long: ask again. */
export const IN_FLIGHT_TIMEOUT_MS = 60_000;
/** A key just reported gone is not uninstalled again for this long (no uninstall ping-pong). */
export const RECENTLY_GONE_MS = 60_000;

/**
 * What a base's modules look like, as far as its reports tell (in memory; the base is the source of truth and
 * is asked again every poll). Reports can cross: an inventory published before an operation reply may arrive
 * after it, so each key remembers when an operation last changed it and older inventories do not undo it.
 */
export class BaseModules {
  readonly inventory = new Map<string, BizStatus>();
  /** A complete report arrived since the base's current process started (as far as kmc knows). */
  inventoryKnown = false;
  readonly inFlight = new Map<string, InFlight>();
  readonly recentlyGone = new Map<string, number>();
  /** Failed uninstalls wait before the next try. */
  readonly uninstallFailedAt = new Map<string, number>();
  readonly #operationAt = new Map<string, number>();
  /** Jar URLs of the last baseline sent, to name batch-install results that carry no biz info. */
  readonly baselineUrls = new Map<string, string>();
  lastReportAt = 0;
  /**
   * When a successful install was answered and no complete report has arrived since: the reply names only the
   * installed module, so the other versions' states are stale (a base that switches has deactivated the old one
   * and says so only in the list kmc asks for right after). Decisions that compare versions wait for it.
   */
  listPendingSince: number | undefined;

  /** Applies a complete report; true when it changed what kmc knows (a reconcile is worth it). */
  applyInventory(event: InventoryEvent, receivedAt: number): boolean {
    const before = this.#fingerprint();
    const seen = new Set<string>();
    for (const item of event.items) {
      const key = moduleKey(item.bizName, item.bizVersion);
      seen.add(key);
      if ((this.#operationAt.get(key) ?? 0) > event.at) continue;
      this.inventory.set(key, item);
    }
    for (const key of [...this.inventory.keys()]) {
      if (seen.has(key) || (this.#operationAt.get(key) ?? 0) > event.at) continue;
      this.inventory.delete(key);
    }
    const settled = this.inFlight.size;
    for (const key of [...this.inFlight.keys()]) this.#settleFromInventory(key);
    const known = this.inventoryKnown;
    this.inventoryKnown = true;
    const pending = this.listPendingSince !== undefined;
    if (pending && event.at >= (this.listPendingSince ?? 0)) this.listPendingSince = undefined;
    this.lastReportAt = receivedAt;
    return (
      !known ||
      (pending && this.listPendingSince === undefined) ||
      settled !== this.inFlight.size ||
      this.#fingerprint() !== before
    );
  }

  #fingerprint(): string {
    return [...this.inventory.values()]
      .map((s) => `${s.bizName}:${s.bizVersion}=${s.state ?? '?'}/${s.reason ?? ''}/${s.message ?? ''}`)
      .sort()
      .join('|');
  }

  applyOperation(event: OperationEvent, receivedAt: number): void {
    const key = moduleKey(event.bizName, event.bizVersion);
    this.#operationAt.set(key, event.at);
    this.inFlight.delete(key);
    this.lastReportAt = receivedAt;
    if (event.command === 'installBiz') {
      if (event.success) {
        this.inventory.set(key, status(event, event.state ?? 'ACTIVATED', 'STARTED', event.message));
        this.listPendingSince ??= event.at;
      } else if (event.code === 'REPEAT_BIZ') {
        // Already there, in a state the inventory query that follows every install will tell.
        if (!this.inventory.has(key))
          this.inventory.set(key, status(event, undefined, 'REPEAT_BIZ', event.message));
      } else {
        this.inventory.set(key, status(event, 'BROKEN', event.code || 'INSTALL_FAILED', event.message));
      }
      return;
    }
    if (event.success || event.code === 'NOT_FOUND_BIZ') {
      this.inventory.delete(key);
      this.recentlyGone.set(key, receivedAt);
      this.uninstallFailedAt.delete(key);
    } else {
      this.uninstallFailedAt.set(key, receivedAt);
    }
  }

  applyBatchInstall(event: BatchInstallEvent, receivedAt: number): void {
    for (const result of event.results) {
      const key =
        result.bizName !== undefined && result.bizVersion !== undefined
          ? moduleKey(result.bizName, result.bizVersion)
          : this.baselineUrls.get(result.bizUrl);
      if (!key) continue;
      const { bizName, bizVersion } = parseModuleKey(key);
      this.#operationAt.set(key, event.at);
      this.inFlight.delete(key);
      const state: BizState = result.success ? (result.state ?? 'ACTIVATED') : 'BROKEN';
      this.inventory.set(key, {
        bizName,
        bizVersion,
        state,
        rawState: state,
        reason: result.success ? 'STARTED' : result.code || 'INSTALL_FAILED',
        message: result.message,
        changeTime: event.at,
      });
    }
    this.lastReportAt = receivedAt;
  }

  /** A complete report arrived since the base's process started, and none is awaited after an install. */
  get inventoryCurrent(): boolean {
    return this.inventoryKnown && this.listPendingSince === undefined;
  }

  /** The base started a new process: everything installed is gone until it says otherwise. */
  resetForNewProcess(): void {
    this.inventory.clear();
    this.inventoryKnown = false;
    this.listPendingSince = undefined;
    this.inFlight.clear();
    this.#operationAt.clear();
  }

  sent(key: string, op: 'install' | 'uninstall', now: number): void {
    this.inFlight.set(key, { op, sentAt: now });
    // Installed again: once it runs, it is kmc's to uninstall like any other (not a just-gone key any more).
    if (op === 'install') this.recentlyGone.delete(key);
  }

  /** In-flight operations that were never answered are forgotten, so the next reconcile asks again. */
  expire(now: number): void {
    for (const [key, flight] of this.inFlight)
      if (now - flight.sentAt > IN_FLIGHT_TIMEOUT_MS) this.inFlight.delete(key);
    for (const [key, at] of this.recentlyGone) if (now - at > RECENTLY_GONE_MS) this.recentlyGone.delete(key);
  }

  #settleFromInventory(key: string): void {
    const flight = this.inFlight.get(key);
    if (!flight) return;
    const present = this.inventory.get(key);
    // An install shows up in the inventory; an uninstall shows as absence.
    if (flight.op === 'install' && present?.state === 'ACTIVATED') this.inFlight.delete(key);
    if (flight.op === 'uninstall' && !present) this.inFlight.delete(key);
  }
}

function status(
  event: OperationEvent,
  state: BizState | undefined,
  reason: string,
  message: string,
): BizStatus {
  return {
    bizName: event.bizName,
    bizVersion: event.bizVersion,
    state,
    rawState: state ?? 'unknown',
    reason,
    message,
    changeTime: event.at,
  };
}
