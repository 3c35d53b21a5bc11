import { describe, expect, it } from 'vitest';
import type { BaseMetadata } from '../../../core/tunnel/protocol/messages.ts';
import type { BaselineQueryEvent, HealthEvent, HeartbeatEvent } from '../../../core/tunnel/tunnel.ts';
import {
  BaseRegistry,
  type BaseRecord,
  type HeartbeatOutcome,
  type LivenessSettings,
} from '../../../core/vnode/base-registry.ts';

const T0 = 1_800_000_000_000;
const SETTINGS: LivenessSettings = { silenceMs: 30_000, brokerLossGraceMs: 120_000 };

function metadata(overrides: Partial<BaseMetadata> = {}): BaseMetadata {
  return { identity: 'base-1', name: 'base', version: '1.0.0', clusterName: 'default', ...overrides };
}

interface HeartbeatOptions {
  readonly localIP?: string;
  readonly hostname?: string;
  readonly activated?: boolean;
  readonly metadata?: Partial<BaseMetadata>;
}

function heartbeat(baseId: string, at: number, options: HeartbeatOptions = {}): HeartbeatEvent {
  return {
    type: 'heartbeat',
    baseId,
    at,
    metadata: metadata({ identity: baseId, ...options.metadata }),
    localIP: options.localIP ?? `10.0.0.${String(baseId.length)}`,
    hostname: options.hostname ?? `host-${baseId}`,
    port: 0,
    activated: options.activated ?? true,
  };
}

function health(
  baseId: string,
  at: number,
  options: Partial<Pick<HealthEvent, 'activated' | 'memory'>> = {},
): HealthEvent {
  return {
    type: 'health',
    baseId,
    at,
    activated: options.activated ?? true,
    ...(options.memory ? { memory: options.memory } : {}),
  };
}

function accepted(outcome: HeartbeatOutcome): Extract<HeartbeatOutcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`refused: ${outcome.reason}: ${outcome.detail}`);
  return outcome;
}

/** A registry with one base heard at `at`. */
function registryWith(
  baseId: string,
  at: number,
  options: HeartbeatOptions = {},
): [BaseRegistry, BaseRecord] {
  const registry = new BaseRegistry();
  const { record } = accepted(registry.onHeartbeat(heartbeat(baseId, at, options), at));
  return [registry, record];
}

function adoptInto(registry: BaseRegistry, baseId: string, ready: boolean, now: number): BaseRecord {
  return registry.adopt({
    baseId,
    nodeName: `virtual-node-${baseId}`,
    metadata: metadata({ identity: baseId }),
    localIP: '10.0.1.1',
    hostname: `host-${baseId}`,
    ready,
    now,
  });
}

describe('BaseRegistry heartbeats', () => {
  it('creates a record for a new base, heard now and trusted, under its node name', () => {
    const registry = new BaseRegistry();
    const outcome = accepted(
      registry.onHeartbeat(heartbeat('Base-1', T0, { localIP: '10.0.0.7', hostname: 'pod-a' }), T0),
    );
    expect(outcome.change).toBe('new');
    expect(outcome.replaced).toEqual([]);
    expect(outcome.record).toMatchObject({
      baseId: 'Base-1',
      nodeName: 'virtual-node-base-1',
      localIP: '10.0.0.7',
      hostname: 'pod-a',
      lastHeardAt: T0,
      heardSinceStart: true,
      adoptedReady: false,
      deactivatedAt: undefined,
      replacedBy: undefined,
    });
    expect(registry.get('Base-1')).toBe(outcome.record);
    expect(registry.byNodeName('virtual-node-base-1')).toBe(outcome.record);
    expect(registry.size).toBe(1);
    expect([...registry.all()]).toEqual([outcome.record]);
  });

  it('reports a steady heartbeat as no change and moves lastHeardAt', () => {
    const [registry, record] = registryWith('base-1', T0);
    const outcome = accepted(registry.onHeartbeat(heartbeat('base-1', T0 + 10_000), T0 + 10_000));
    expect(outcome.change).toBe('none');
    expect(outcome.record).toBe(record);
    expect(record.lastHeardAt).toBe(T0 + 10_000);
  });

  it.each([
    ['name', { metadata: { name: 'base-2' } }],
    ['version', { metadata: { version: '1.1.0' } }],
    ['cluster name', { metadata: { clusterName: 'other' } }],
    ['IP', { localIP: '10.9.9.9' }],
    ['hostname', { hostname: 'new-host' }],
  ] as const)('reports a new %s as a metadata change and keeps it', (_what, options) => {
    const [registry, record] = registryWith('base-1', T0);
    const outcome = accepted(registry.onHeartbeat(heartbeat('base-1', T0 + 1000, options), T0 + 1000));
    expect(outcome.change).toBe('metadata');
    expect(record.metadata).toEqual(
      metadata({ identity: 'base-1', ...('metadata' in options ? options.metadata : {}) }),
    );
    if ('localIP' in options) expect(record.localIP).toBe(options.localIP);
    if ('hostname' in options) expect(record.hostname).toBe(options.hostname);
  });

  it('refuses a base id that cannot become a node name', () => {
    const registry = new BaseRegistry();
    const outcome = registry.onHeartbeat(heartbeat('base..1', T0), T0);
    expect(outcome).toMatchObject({ ok: false, reason: 'invalid-base-id' });
    expect(registry.size).toBe(0);
  });

  it('refuses a second raw id that maps to the node name another base holds, and keeps the first', () => {
    const [registry, first] = registryWith('Base_1', T0);
    const outcome = registry.onHeartbeat(heartbeat('base-1', T0 + 1000), T0 + 1000);
    expect(outcome).toMatchObject({ ok: false, reason: 'node-name-taken' });
    if (outcome.ok) return;
    expect(outcome.detail).toContain('"Base_1"');
    expect(outcome.detail).toContain('"base-1"');
    expect(outcome.detail).toContain('virtual-node-base-1');
    expect(registry.byNodeName('virtual-node-base-1')).toBe(first);
    expect(registry.get('base-1')).toBeUndefined();
  });

  it('marks a base that heartbeats not ACTIVATED as deactivated, without moving lastHeardAt', () => {
    const [registry, record] = registryWith('base-1', T0);
    accepted(registry.onHeartbeat(heartbeat('base-1', T0 + 5000, { activated: false }), T0 + 5000));
    expect(record.deactivatedAt).toBe(T0 + 5000);
    expect(record.lastHeardAt).toBe(T0);
    expect(registry.liveness(record, T0 + 5000, SETTINGS)).toEqual({ state: 'deactivated' });
  });

  it('keeps the first deactivation time across further deactivated heartbeats', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.onHeartbeat(heartbeat('base-1', T0 + 5000, { activated: false }), T0 + 5000);
    registry.onHeartbeat(heartbeat('base-1', T0 + 10_000, { activated: false }), T0 + 10_000);
    expect(record.deactivatedAt).toBe(T0 + 5000);
  });

  it('creates a base first heard deactivated as deactivated', () => {
    const registry = new BaseRegistry();
    const { record } = accepted(registry.onHeartbeat(heartbeat('base-1', T0, { activated: false }), T0));
    expect(record.deactivatedAt).toBe(T0);
    expect(registry.liveness(record, T0, SETTINGS).state).toBe('deactivated');
  });

  it('reports a deactivated base that heartbeats ACTIVATED again as returned, and alive', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.onHeartbeat(heartbeat('base-1', T0 + 5000, { activated: false }), T0 + 5000);
    const outcome = accepted(registry.onHeartbeat(heartbeat('base-1', T0 + 9000), T0 + 9000));
    expect(outcome.change).toBe('returned');
    expect(record.deactivatedAt).toBeUndefined();
    expect(registry.liveness(record, T0 + 9000, SETTINGS).state).toBe('alive');
  });

  it('reports a base that was silent past its timeout and heartbeats again as returned', () => {
    const [registry, record] = registryWith('base-1', T0);
    const later = T0 + 10 * 60_000;
    expect(registry.liveness(record, later, SETTINGS).state).toBe('silent');
    const outcome = accepted(registry.onHeartbeat(heartbeat('base-1', later), later));
    expect(outcome.change).toBe('returned');
  });

  it('reports an adopted base heard for the first time as returned, and trusts it from then on', () => {
    const registry = new BaseRegistry();
    const record = adoptInto(registry, 'base-1', true, T0);
    const outcome = accepted(registry.onHeartbeat(heartbeat('base-1', T0 + 1000), T0 + 1000));
    expect(outcome.change).toBe('returned');
    expect(outcome.record).toBe(record);
    expect(record.heardSinceStart).toBe(true);
  });
});

describe('BaseRegistry replacement', () => {
  it('marks an older base with the same IP replaced by a new base', () => {
    const [registry, old] = registryWith('old-base', T0, { localIP: '10.0.0.9', hostname: 'pod-a' });
    const outcome = accepted(
      registry.onHeartbeat(
        heartbeat('new-base', T0 + 1000, { localIP: '10.0.0.9', hostname: 'pod-b' }),
        T0 + 1000,
      ),
    );
    expect(outcome.change).toBe('new');
    expect(outcome.replaced).toEqual([old]);
    expect(old.replacedBy).toBe('new-base');
    expect(registry.liveness(old, T0 + 1000, SETTINGS)).toEqual({ state: 'replaced', by: 'new-base' });
  });

  it('marks an older base with the same hostname replaced by a new base', () => {
    const [registry, old] = registryWith('old-base', T0, { localIP: '10.0.0.9', hostname: 'pod-a' });
    const outcome = accepted(
      registry.onHeartbeat(
        heartbeat('new-base', T0 + 1000, { localIP: '10.0.0.10', hostname: 'pod-a' }),
        T0 + 1000,
      ),
    );
    expect(outcome.replaced).toEqual([old]);
  });

  it('never replaces on 127.0.0.1 (the stand-in for an empty IP) or on an empty hostname', () => {
    const [registry, old] = registryWith('old-base', T0, { localIP: '127.0.0.1', hostname: '' });
    const outcome = accepted(
      registry.onHeartbeat(
        heartbeat('new-base', T0 + 1000, { localIP: '127.0.0.1', hostname: '' }),
        T0 + 1000,
      ),
    );
    expect(outcome.replaced).toEqual([]);
    expect(old.replacedBy).toBeUndefined();
  });

  it('replaces when a base moves onto the address of another (a metadata change)', () => {
    const [registry, old] = registryWith('old-base', T0, { localIP: '10.0.0.9', hostname: 'pod-a' });
    registry.onHeartbeat(heartbeat('new-base', T0, { localIP: '10.0.0.10', hostname: 'pod-b' }), T0);
    const outcome = accepted(
      registry.onHeartbeat(
        heartbeat('new-base', T0 + 1000, { localIP: '10.0.0.9', hostname: 'pod-b' }),
        T0 + 1000,
      ),
    );
    expect(outcome.change).toBe('metadata');
    expect(outcome.replaced).toEqual([old]);
  });

  it('does not replace on a steady heartbeat, even when another base shares the address', () => {
    const [registry, steadyBase] = registryWith('steady-base', T0, {
      localIP: '10.0.0.20',
      hostname: 'pod-y',
    });
    // a node adopted at start with the same address: adoption replaces nobody
    const adopted = registry.adopt({
      baseId: 'adopted-base',
      nodeName: 'virtual-node-adopted-base',
      metadata: metadata({ identity: 'adopted-base' }),
      localIP: '10.0.0.20',
      hostname: 'pod-z',
      ready: true,
      now: T0,
    });
    const steady = accepted(
      registry.onHeartbeat(
        heartbeat('steady-base', T0 + 1000, { localIP: '10.0.0.20', hostname: 'pod-y' }),
        T0 + 1000,
      ),
    );
    expect(steady.record).toBe(steadyBase);
    expect(steady.change).toBe('none');
    expect(steady.replaced).toEqual([]);
    expect(adopted.replacedBy).toBeUndefined();
  });

  it('does not let a replaced base that still heartbeats replace its replacement back', () => {
    const [registry, old] = registryWith('old-base', T0, { localIP: '10.0.0.9', hostname: 'pod-a' });
    const { record: fresh } = accepted(
      registry.onHeartbeat(
        heartbeat('new-base', T0 + 1000, { localIP: '10.0.0.9', hostname: 'pod-b' }),
        T0 + 1000,
      ),
    );
    expect(old.replacedBy).toBe('new-base');
    const outcome = accepted(
      registry.onHeartbeat(
        heartbeat('old-base', T0 + 2000, { localIP: '10.0.0.9', hostname: 'pod-a' }),
        T0 + 2000,
      ),
    );
    expect(outcome.replaced).toEqual([]);
    expect(fresh.replacedBy).toBeUndefined();
    expect(registry.liveness(fresh, T0 + 2000, SETTINGS).state).toBe('alive');
  });

  it('does not replace a base that is already replaced again', () => {
    const [registry, first] = registryWith('first', T0, { localIP: '10.0.0.9', hostname: 'a' });
    registry.onHeartbeat(heartbeat('second', T0 + 1000, { localIP: '10.0.0.9', hostname: 'b' }), T0 + 1000);
    const outcome = accepted(
      registry.onHeartbeat(heartbeat('third', T0 + 2000, { localIP: '10.0.0.9', hostname: 'c' }), T0 + 2000),
    );
    expect(outcome.replaced.map((r) => r.baseId)).toEqual(['second']);
    expect(first.replacedBy).toBe('second');
  });
});

describe('BaseRegistry health and baseline queries', () => {
  it('counts an ACTIVATED health reply as hearing the base and keeps the memory it reports', () => {
    const [registry, record] = registryWith('base-1', T0);
    const memory = { capacityBytes: 256 * 1024 * 1024, allocatableBytes: 128 * 1024 * 1024 };
    expect(registry.onHealth(health('base-1', T0 + 20_000, { memory }), T0 + 20_000)).toBe(record);
    expect(record.lastHeardAt).toBe(T0 + 20_000);
    expect(record.memory).toEqual(memory);
    expect(registry.liveness(record, T0 + 45_000, SETTINGS).state).toBe('alive');
  });

  it('keeps the last memory figure when a health reply carries none', () => {
    const [registry, record] = registryWith('base-1', T0);
    const memory = { capacityBytes: 1024, allocatableBytes: 512 };
    registry.onHealth(health('base-1', T0, { memory }), T0);
    registry.onHealth(health('base-1', T0 + 1000), T0 + 1000);
    expect(record.memory).toEqual(memory);
  });

  it('marks a base whose health reply is not ACTIVATED as deactivated, without hearing it', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.onHealth(health('base-1', T0 + 1000, { activated: false }), T0 + 1000);
    expect(record.deactivatedAt).toBe(T0 + 1000);
    expect(record.lastHeardAt).toBe(T0);
    expect(registry.liveness(record, T0 + 1000, SETTINGS).state).toBe('deactivated');
  });

  it('ignores health replies and baseline queries of unknown bases', () => {
    const registry = new BaseRegistry();
    expect(registry.onHealth(health('ghost', T0), T0)).toBeUndefined();
    const query: BaselineQueryEvent = {
      type: 'baselineQuery',
      baseId: 'ghost',
      at: T0,
      metadata: metadata(),
    };
    expect(registry.onBaselineQuery(query, T0)).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('records a baseline query as the start of the base process', () => {
    const [registry, record] = registryWith('base-1', T0);
    const query: BaselineQueryEvent = {
      type: 'baselineQuery',
      baseId: 'base-1',
      at: T0 + 1,
      metadata: metadata(),
    };
    expect(registry.onBaselineQuery(query, T0 + 5)).toBe(record);
    expect(record.processStartedAt).toBe(T0 + 5);
  });
});

describe('BaseRegistry liveness', () => {
  it('is alive within the silence timeout, with the time left, and silent after it', () => {
    const [registry, record] = registryWith('base-1', T0);
    expect(registry.liveness(record, T0 + 10_000, SETTINGS)).toEqual({
      state: 'alive',
      silentAfterMs: 20_000,
    });
    expect(registry.liveness(record, T0 + 30_000, SETTINGS)).toEqual({ state: 'alive', silentAfterMs: 0 });
    expect(registry.liveness(record, T0 + 30_001, SETTINGS)).toEqual({ state: 'silent', sinceMs: 30_001 });
  });

  it('judges with its own settings (the config defaults: 30 s silence) when none are given', () => {
    const [registry, record] = registryWith('base-1', T0);
    expect(registry.liveness(record, T0 + 29_000).state).toBe('alive');
    expect(registry.liveness(record, T0 + 31_000).state).toBe('silent');
  });

  it('keeps a base alive while the broker is lost, within the grace', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.brokerConnectionChanged(false, T0 + 10_000);
    expect(registry.liveness(record, T0 + 100_000, SETTINGS)).toEqual({
      state: 'alive',
      silentAfterMs: 30_000,
    });
  });

  it('turns a base silent once the broker-loss grace has passed', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.brokerConnectionChanged(false, T0 + 10_000);
    expect(registry.liveness(record, T0 + 130_000, SETTINGS)).toEqual({ state: 'silent', sinceMs: 130_000 });
  });

  it('gives every base a fresh silence window after the broker comes back', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.brokerConnectionChanged(false, T0 + 10_000);
    registry.brokerConnectionChanged(true, T0 + 60_000);
    expect(registry.liveness(record, T0 + 80_000, SETTINGS)).toEqual({
      state: 'alive',
      silentAfterMs: 10_000,
    });
    expect(registry.liveness(record, T0 + 90_001, SETTINGS).state).toBe('silent');
  });

  it('ignores a connection report that changes nothing (the grace starts at the first loss)', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.brokerConnectionChanged(false, T0 + 10_000);
    registry.brokerConnectionChanged(false, T0 + 100_000);
    expect(registry.liveness(record, T0 + 130_001, SETTINGS).state).toBe('silent');
  });

  it('keeps a base that was already silent silent when the broker is lost afterwards', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.brokerConnectionChanged(false, T0 + 100_000);
    expect(registry.liveness(record, T0 + 101_000, SETTINGS).state).toBe('silent');
  });

  it('keeps an unconfirmed adopted base unconfirmed while the broker is lost', () => {
    const registry = new BaseRegistry();
    const record = adoptInto(registry, 'base-1', false, T0);
    registry.brokerConnectionChanged(false, T0 + 1000);
    expect(registry.liveness(record, T0 + 2000, SETTINGS).state).toBe('unconfirmed');
  });

  it('puts replacement before deactivation and deactivation before silence', () => {
    const [registry, record] = registryWith('base-1', T0);
    record.deactivatedAt = T0;
    expect(registry.liveness(record, T0 + 3_600_000, SETTINGS).state).toBe('deactivated');
    record.replacedBy = 'base-2';
    expect(registry.liveness(record, T0 + 3_600_000, SETTINGS)).toEqual({ state: 'replaced', by: 'base-2' });
  });
});

describe('BaseRegistry adoption and forgetting', () => {
  it('adopts a Ready node as alive for one silence window, untrusted', () => {
    const registry = new BaseRegistry();
    const record = adoptInto(registry, 'base-1', true, T0);
    expect(record).toMatchObject({ heardSinceStart: false, adoptedReady: true, lastHeardAt: T0 });
    expect(registry.liveness(record, T0 + 30_000, SETTINGS)).toEqual({ state: 'alive', silentAfterMs: 0 });
    expect(registry.liveness(record, T0 + 30_001, SETTINGS).state).toBe('silent');
  });

  it('adopts a node that was not Ready as unconfirmed until its base speaks', () => {
    const registry = new BaseRegistry();
    const record = adoptInto(registry, 'base-1', false, T0);
    expect(registry.liveness(record, T0 + 10_000, SETTINGS)).toEqual({
      state: 'unconfirmed',
      silentAfterMs: 20_000,
    });
    registry.onHeartbeat(heartbeat('base-1', T0 + 11_000), T0 + 11_000);
    expect(registry.liveness(record, T0 + 12_000, SETTINGS).state).toBe('alive');
  });

  it('keeps the record it has when asked to adopt a base it already knows', () => {
    const [registry, record] = registryWith('base-1', T0);
    expect(adoptInto(registry, 'base-1', false, T0 + 1000)).toBe(record);
    expect(record.heardSinceStart).toBe(true);
  });

  it('forgets a base by id and by node name, and tolerates forgetting an unknown one', () => {
    const [registry, record] = registryWith('base-1', T0);
    registry.forget('base-1');
    registry.forget('ghost');
    expect(registry.get('base-1')).toBeUndefined();
    expect(registry.byNodeName(record.nodeName)).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('lets another raw id take a node name once its holder is forgotten', () => {
    const [registry] = registryWith('Base_1', T0);
    registry.forget('Base_1');
    expect(registry.onHeartbeat(heartbeat('base-1', T0 + 1000), T0 + 1000)).toMatchObject({
      ok: true,
      change: 'new',
    });
  });
});
