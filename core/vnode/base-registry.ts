import type { BaseMetadata } from '../tunnel/protocol/messages.ts';
import type { BaselineQueryEvent, HealthEvent, HeartbeatEvent } from '../tunnel/tunnel.ts';
import { nodeNameForBase } from './node-names.ts';

/** What kmc knows about one base, from what the base said (and, after a restart, from its Node). */
export interface BaseRecord {
  readonly baseId: string;
  readonly nodeName: string;
  metadata: BaseMetadata;
  localIP: string;
  hostname: string;
  /** Last ACTIVATED heartbeat or health reply (or the adoption time for a node adopted at start). */
  lastHeardAt: number;
  /** True once the base itself has been heard by this process (not only adopted from its Node). */
  heardSinceStart: boolean;
  /** Adopted from a Node that was Ready: trusted until its silence timeout, so a restart does not flap it. */
  adoptedReady: boolean;
  /** The base said it is not ACTIVATED (it is shutting down): NotReady at once. */
  deactivatedAt: number | undefined;
  /** Another base took over this one's IP or hostname: this one is gone. */
  replacedBy: string | undefined;
  /** When the base last asked for its baseline: the start of its current process. */
  processStartedAt: number | undefined;
  memory: { readonly capacityBytes: number; readonly allocatableBytes: number } | undefined;
}

export type BaseLiveness =
  | { readonly state: 'alive'; readonly silentAfterMs: number }
  /** Adopted from a node that was not Ready and not heard since: leave its node as it is until heard. */
  | { readonly state: 'unconfirmed'; readonly silentAfterMs: number }
  | { readonly state: 'silent'; readonly sinceMs: number }
  | { readonly state: 'deactivated' }
  | { readonly state: 'replaced'; readonly by: string };

export type HeartbeatOutcome =
  | {
      readonly ok: true;
      readonly record: BaseRecord;
      /** Nothing before, or the base was silent / gone and speaks again. */
      readonly change: 'new' | 'returned' | 'metadata' | 'none';
      /** Other bases this one replaces (same IP or hostname, another id). */
      readonly replaced: readonly BaseRecord[];
    }
  | { readonly ok: false; readonly reason: 'invalid-base-id' | 'node-name-taken'; readonly detail: string };

export interface LivenessSettings {
  readonly silenceMs: number;
  readonly brokerLossGraceMs: number;
}

/**
 * In-memory state of every base, fed by tunnel events. Pure (time comes in as arguments), so liveness rules —
 * silence, broker-loss grace, deactivation, replacement — are tested without timers.
 */
export const DEFAULT_LIVENESS: LivenessSettings = { silenceMs: 30_000, brokerLossGraceMs: 120_000 };

export class BaseRegistry {
  readonly #byId = new Map<string, BaseRecord>();
  readonly #byNodeName = new Map<string, BaseRecord>();
  readonly #settings: LivenessSettings;
  /**
   * Broker connection: bases cannot be heard while it is down, so silence is not theirs. `lostAt` is the last
   * time it was lost, kept across the reconnect.
   */
  #broker: { connected: boolean; since: number; lostAt: number | undefined } = {
    connected: true,
    since: 0,
    lostAt: undefined,
  };

  constructor(settings: LivenessSettings = DEFAULT_LIVENESS) {
    this.#settings = settings;
  }

  get(baseId: string): BaseRecord | undefined {
    return this.#byId.get(baseId);
  }

  byNodeName(nodeName: string): BaseRecord | undefined {
    return this.#byNodeName.get(nodeName);
  }

  all(): IterableIterator<BaseRecord> {
    return this.#byId.values();
  }

  get size(): number {
    return this.#byId.size;
  }

  brokerConnectionChanged(connected: boolean, now: number): void {
    if (this.#broker.connected === connected) return;
    this.#broker = connected
      ? { connected, since: now, lostAt: this.#broker.lostAt }
      : { connected, since: now, lostAt: now };
  }

  onHeartbeat(event: HeartbeatEvent, now: number): HeartbeatOutcome {
    const named = nodeNameForBase(event.baseId);
    if (!named.ok) return { ok: false, reason: 'invalid-base-id', detail: named.reason };
    const holder = this.#byNodeName.get(named.nodeName);
    if (holder && holder.baseId !== event.baseId) {
      return {
        ok: false,
        reason: 'node-name-taken',
        detail: `base ids ${JSON.stringify(holder.baseId)} and ${JSON.stringify(event.baseId)} both map to node ${named.nodeName}`,
      };
    }
    const existing = this.#byId.get(event.baseId);
    const heard = event.activated ? now : (existing?.lastHeardAt ?? now);
    let change: 'new' | 'returned' | 'metadata' | 'none';
    let record: BaseRecord;
    if (!existing) {
      record = {
        baseId: event.baseId,
        nodeName: named.nodeName,
        metadata: event.metadata,
        localIP: event.localIP,
        hostname: event.hostname,
        lastHeardAt: heard,
        heardSinceStart: true,
        adoptedReady: false,
        deactivatedAt: event.activated ? undefined : now,
        replacedBy: undefined,
        processStartedAt: undefined,
        memory: undefined,
      };
      this.#byId.set(record.baseId, record);
      this.#byNodeName.set(record.nodeName, record);
      change = 'new';
    } else if (existing.replacedBy !== undefined && this.#stillReplaced(existing, event)) {
      // Its replacement still reports this address: a ghost of a rolled base, not a comeback. It stays
      // replaced and takes nothing back, so two bases that share an address cannot flip each other.
      existing.lastHeardAt = heard;
      return { ok: true, record: existing, change: 'none', replaced: [] };
    } else {
      record = existing;
      const wasDown = this.liveness(existing, now).state !== 'alive' || !existing.heardSinceStart;
      const metadataChanged =
        existing.metadata.name !== event.metadata.name ||
        existing.metadata.version !== event.metadata.version ||
        existing.metadata.clusterName !== event.metadata.clusterName ||
        existing.localIP !== event.localIP ||
        existing.hostname !== event.hostname;
      record.metadata = event.metadata;
      record.localIP = event.localIP;
      record.hostname = event.hostname;
      record.lastHeardAt = heard;
      record.heardSinceStart = true;
      if (event.activated) {
        record.deactivatedAt = undefined;
        record.replacedBy = undefined;
      } else {
        record.deactivatedAt ??= now;
      }
      change = event.activated && wasDown ? 'returned' : metadataChanged ? 'metadata' : 'none';
    }
    // Only a base that appears, returns or moves can take another's place; a steady heartbeat cannot, so two
    // bases that briefly share an address do not replace each other back and forth.
    const replaced = event.activated && change !== 'none' ? this.#replaceOthers(record) : [];
    return { ok: true, record, change, replaced };
  }

  onHealth(event: HealthEvent, now: number): BaseRecord | undefined {
    const record = this.#byId.get(event.baseId);
    if (!record) return undefined;
    if (event.activated) {
      record.lastHeardAt = now;
      record.heardSinceStart = true;
    } else {
      record.deactivatedAt ??= now;
    }
    if (event.memory) record.memory = event.memory;
    return record;
  }

  onBaselineQuery(event: BaselineQueryEvent, now: number): BaseRecord | undefined {
    const record = this.#byId.get(event.baseId);
    if (record) record.processStartedAt = now;
    return record;
  }

  /**
   * A node found at start whose base this process has not heard yet. A Ready node counts as heard now, so a
   * restart or failover does not flap it NotReady, yet it is trusted for one silence timeout only. A node that
   * was not Ready is left as it is until its base speaks.
   */
  adopt(node: {
    readonly baseId: string;
    readonly nodeName: string;
    readonly metadata: BaseMetadata;
    readonly localIP: string;
    readonly hostname: string;
    readonly ready: boolean;
    readonly now: number;
  }): BaseRecord {
    const { baseId, nodeName, metadata, localIP, hostname, ready, now } = node;
    const existing = this.#byId.get(baseId);
    if (existing) return existing;
    const record: BaseRecord = {
      baseId,
      nodeName,
      metadata,
      localIP,
      hostname,
      lastHeardAt: now,
      heardSinceStart: false,
      adoptedReady: ready,
      deactivatedAt: undefined,
      replacedBy: undefined,
      processStartedAt: undefined,
      memory: undefined,
    };
    this.#byId.set(baseId, record);
    this.#byNodeName.set(nodeName, record);
    return record;
  }

  forget(baseId: string): void {
    const record = this.#byId.get(baseId);
    if (!record) return;
    this.#byId.delete(baseId);
    if (this.#byNodeName.get(record.nodeName) === record) this.#byNodeName.delete(record.nodeName);
  }

  liveness(record: BaseRecord, now: number, settings: LivenessSettings = this.#settings): BaseLiveness {
    if (record.replacedBy !== undefined) return { state: 'replaced', by: record.replacedBy };
    if (record.deactivatedAt !== undefined) return { state: 'deactivated' };
    const broker = this.#broker;
    if (!broker.connected && now - broker.since < settings.brokerLossGraceMs) {
      // Nothing can be heard while the broker is gone; for a grace period, nothing changes either: a base is
      // judged as it was when the broker went away.
      const silentAtLoss = broker.since - record.lastHeardAt;
      if (silentAtLoss > settings.silenceMs) return { state: 'silent', sinceMs: now - record.lastHeardAt };
      const silentAfterMs = broker.since + settings.brokerLossGraceMs - now;
      if (!record.heardSinceStart && !record.adoptedReady) return { state: 'unconfirmed', silentAfterMs };
      return { state: 'alive', silentAfterMs };
    }
    // After a reconnect, a base that was alive when the broker went away gets a fresh silence window to be heard
    // again; one that was already silent stays silent.
    const aliveAtLoss =
      broker.lostAt !== undefined && record.lastHeardAt >= broker.lostAt - settings.silenceMs;
    const heard =
      broker.connected && aliveAtLoss ? Math.max(record.lastHeardAt, broker.since) : record.lastHeardAt;
    const silentFor = now - heard;
    if (silentFor <= settings.silenceMs) {
      const silentAfterMs = settings.silenceMs - silentFor;
      if (!record.heardSinceStart && !record.adoptedReady) return { state: 'unconfirmed', silentAfterMs };
      return { state: 'alive', silentAfterMs };
    }
    return { state: 'silent', sinceMs: silentFor };
  }

  #stillReplaced(record: BaseRecord, event: HeartbeatEvent): boolean {
    const replacer = record.replacedBy === undefined ? undefined : this.#byId.get(record.replacedBy);
    if (!replacer || replacer.replacedBy !== undefined) return false;
    const sameIp = replacer.localIP === event.localIP && event.localIP !== '127.0.0.1';
    const sameHost = replacer.hostname !== '' && replacer.hostname === event.hostname;
    return sameIp || sameHost;
  }

  /** A base that reports the IP or hostname of another base (another id) replaces it (a rolled base pod). */
  #replaceOthers(record: BaseRecord): BaseRecord[] {
    const replaced: BaseRecord[] = [];
    for (const other of this.#byId.values()) {
      if (other === record || other.replacedBy !== undefined) continue;
      const sameIp = other.localIP === record.localIP && record.localIP !== '127.0.0.1';
      const sameHost = other.hostname !== '' && other.hostname === record.hostname;
      if (sameIp || sameHost) {
        other.replacedBy = record.baseId;
        replaced.push(other);
      }
    }
    return replaced;
  }
}
