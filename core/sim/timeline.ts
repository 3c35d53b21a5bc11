/**
 * Everything that happened on one simulated base, in order, with timestamps: biz state changes, commands
 * received, messages published and lifecycle events (connect, crash, restart …). Tests ask it questions
 * about intervals and instants, e.g. "was this base ever without an ACTIVATED biz1 during the rollout".
 *
 * "At instant t" means after every entry stamped t or earlier.
 */
import type { BizState } from '../tunnel/protocol/biz-state.ts';
import type { BaseMessageKind, CommandKind } from '../tunnel/protocol/topics.ts';
import { bizKey, type BizChange } from './biz-inventory.ts';

export type LifecycleEvent =
  | 'started'
  | 'connected'
  | 'connection-lost'
  | 'crashed'
  | 'stopped'
  | 'heartbeat-paused'
  | 'heartbeat-resumed';

export type BizChangeEntry = BizChange & { readonly type: 'biz' };

export interface ReceivedEntry {
  readonly type: 'received';
  readonly at: number;
  readonly topic: string;
  /** Undefined for a topic that names no command the base knows (it ignores those). */
  readonly kind: CommandKind | undefined;
  readonly payload: string;
}

export interface PublishedEntry {
  readonly type: 'published';
  readonly at: number;
  readonly topic: string;
  readonly kind: BaseMessageKind;
  readonly payload: string;
}

export interface LifecycleEntry {
  readonly type: 'lifecycle';
  readonly at: number;
  readonly event: LifecycleEvent;
  /** The base identity at that moment (it changes on a restart with a new identity). */
  readonly identity: string;
}

export type TimelineEntry = BizChangeEntry | ReceivedEntry | PublishedEntry | LifecycleEntry;

/** A closed interval [from, to]; from === to for a transition with no time between two changes. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}

export class Timeline {
  private readonly log: TimelineEntry[] = [];

  record(entry: TimelineEntry): void {
    this.log.push(entry);
  }

  recordChanges(changes: readonly BizChange[]): void {
    for (const change of changes) this.log.push({ type: 'biz', ...change });
  }

  entries(): readonly TimelineEntry[] {
    return [...this.log];
  }

  bizChanges(): BizChangeEntry[] {
    return this.log.filter((entry) => entry.type === 'biz');
  }

  published(kind?: BaseMessageKind): PublishedEntry[] {
    return this.log.filter(
      (entry): entry is PublishedEntry =>
        entry.type === 'published' && (kind === undefined || entry.kind === kind),
    );
  }

  received(kind?: CommandKind): ReceivedEntry[] {
    return this.log.filter(
      (entry): entry is ReceivedEntry =>
        entry.type === 'received' && (kind === undefined || entry.kind === kind),
    );
  }

  lifecycle(event?: LifecycleEvent): LifecycleEntry[] {
    return this.log.filter(
      (entry): entry is LifecycleEntry =>
        entry.type === 'lifecycle' && (event === undefined || entry.event === event),
    );
  }

  /** Every registered biz version (`name:version`) and its state at instant t. */
  statesAt(t: number): ReadonlyMap<string, BizState> {
    const states = new Map<string, BizState>();
    for (const change of this.bizChanges()) {
      if (change.at > t) break;
      apply(states, change);
    }
    return states;
  }

  /** The `name:version` keys ACTIVATED at instant t, sorted. */
  activatedAt(t: number): string[] {
    return [...this.statesAt(t)]
      .filter(([, state]) => state === 'ACTIVATED')
      .map(([key]) => key)
      .sort();
  }

  /** The versions of one biz ACTIVATED at instant t, sorted. */
  activatedVersionsAt(bizName: string, t: number): string[] {
    let versions = new Set<string>();
    for (const change of this.bizChanges()) {
      if (change.at > t) break;
      if (change.bizName === bizName) versions = versionsAfter(versions, change);
    }
    return [...versions].sort();
  }

  /** When this version first became ACTIVATED, or undefined if it never did. */
  firstActivatedAt(bizName: string, bizVersion: string): number | undefined {
    return this.bizChanges().find(
      (change) => change.bizName === bizName && change.bizVersion === bizVersion && change.to === 'ACTIVATED',
    )?.at;
  }

  /**
   * The intervals within [from, to] during which no version of `bizName` was ACTIVATED. A hand-over from one
   * version to another in two changes stamped with the same millisecond still counts as a gap (of length
   * zero) when the old one went first: the base was without the biz in between.
   */
  activationGaps(bizName: string, from: number, to: number): Interval[] {
    const changes = this.bizChanges().filter((change) => change.bizName === bizName && change.at <= to);
    const firstInside = changes.findIndex((change) => change.at > from);
    const before = firstInside === -1 ? changes : changes.slice(0, firstInside);
    const inside = firstInside === -1 ? [] : changes.slice(firstInside);
    // the window opens on the state after every change stamped `from` or earlier
    let active = before.reduce(versionsAfter, new Set<string>());
    let gapStart = active.size === 0 ? from : undefined;
    const gaps: Interval[] = [];
    for (const change of inside) {
      active = versionsAfter(active, change);
      if (active.size === 0) {
        gapStart ??= change.at;
      } else if (gapStart !== undefined) {
        gaps.push({ from: gapStart, to: change.at });
        gapStart = undefined;
      }
    }
    if (gapStart !== undefined) gaps.push({ from: gapStart, to });
    return gaps;
  }

  /** True when some version of `bizName` was ACTIVATED at every instant of [from, to]. */
  alwaysActivated(bizName: string, from: number, to: number): boolean {
    return this.activationGaps(bizName, from, to).length === 0;
  }
}

function apply(states: Map<string, BizState>, change: BizChange): void {
  const key = bizKey(change.bizName, change.bizVersion);
  if (change.to === undefined) states.delete(key);
  else states.set(key, change.to);
}

function versionsAfter(versions: Set<string>, change: BizChange): Set<string> {
  const next = new Set(versions);
  if (change.to === 'ACTIVATED') next.add(change.bizVersion);
  else next.delete(change.bizVersion);
  return next;
}
