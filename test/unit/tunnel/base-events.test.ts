import { describe, expect, it } from 'vitest';
import { toTunnelEvent } from '../../../core/tunnel/base-events.ts';
import type { BaseMessage } from '../../../core/tunnel/protocol/messages.ts';
import { parseBaseMessage } from '../../../core/tunnel/protocol/parse-base-message.ts';
import type { BaseMessageKind } from '../../../core/tunnel/protocol/topics.ts';
import type { TunnelEvent } from '../../../core/tunnel/tunnel.ts';
import { readProtocolExample } from '../../support/protocol-examples.ts';

// just after the newest golden file (they are 1727000000000 … 1727000005000)
const NOW = 1727000006000;
const BASE = '10.244.0.12';

function parsed(kind: BaseMessageKind, text: string): BaseMessage {
  const result = parseBaseMessage(kind, text, NOW);
  if (!result.ok) throw new Error(`rejected as ${result.reason}: ${result.detail}`);
  return result.message;
}

async function golden(kind: BaseMessageKind, file: string): Promise<BaseMessage> {
  return parsed(kind, await readProtocolExample(file));
}

/** A message as a base would send it, published at `at`. */
function message(kind: BaseMessageKind, data: unknown, at = NOW - 1000): BaseMessage {
  return parsed(kind, JSON.stringify({ data, publishTimestamp: at }));
}

function eventOf(baseMessage: BaseMessage): TunnelEvent {
  const event = toTunnelEvent(BASE, baseMessage);
  if (!event) throw new Error('no event');
  return event;
}

function expectType<T extends TunnelEvent['type']>(
  event: TunnelEvent,
  type: T,
): Extract<TunnelEvent, { type: T }> {
  expect(event.type).toBe(type);
  return event as Extract<TunnelEvent, { type: T }>;
}

describe('toTunnelEvent: heartbeat', () => {
  it('turns the golden heartbeat into a heartbeat event with metadata, address and activation', async () => {
    expect(eventOf(await golden('heart', 'base-heart.json'))).toEqual({
      type: 'heartbeat',
      baseId: BASE,
      at: 1727000000000,
      metadata: { clusterName: 'default', identity: '10.244.0.12', name: 'base', version: '1.0.0' },
      localIP: '10.244.0.12',
      hostname: 'base-5f9c7d-x2k4p',
      port: 0,
      activated: true,
    });
  });

  it('gives a heartbeat with an empty IP the address 127.0.0.1', () => {
    const event = expectType(
      eventOf(
        message('heart', {
          baseMetadata: { identity: 'b1', name: 'base', version: '1', clusterName: 'c' },
          localIP: '',
          localHostName: 'h',
          port: 0,
          state: 'activated',
        }),
      ),
      'heartbeat',
    );
    expect(event.localIP).toBe('127.0.0.1');
  });

  it.each([
    ['ACTIVATED', true],
    ['activated', true],
    ['deactivated', false],
    ['BROKEN', false],
    ['3', false],
  ])('reads heartbeat state %s as activated=%s', (state, activated) => {
    const event = expectType(
      eventOf(
        message('heart', {
          baseMetadata: { identity: 'b1', name: 'base', version: '1', clusterName: 'c' },
          localIP: '10.0.0.1',
          localHostName: 'h',
          port: 0,
          state,
        }),
      ),
      'heartbeat',
    );
    expect(event.activated).toBe(activated);
  });
});

describe('toTunnelEvent: baseline query', () => {
  it('turns the golden query into a baseline query event carrying the metadata', async () => {
    expect(eventOf(await golden('queryBaseline', 'base-queryBaseline.json'))).toEqual({
      type: 'baselineQuery',
      baseId: BASE,
      at: 1727000000000,
      metadata: { clusterName: 'default', identity: '10.244.0.12', name: 'base', version: '1.0.0' },
    });
  });
});

describe('toTunnelEvent: health', () => {
  it('turns the golden health reply into an activated health event with metaspace limit and headroom', async () => {
    expect(eventOf(await golden('health', 'base-health.json'))).toEqual({
      type: 'health',
      baseId: BASE,
      at: 1727000002000,
      activated: true,
      memory: { capacityBytes: 268435456, allocatableBytes: 268435456 - 83886080 },
    });
  });

  function healthWith(jvm: Record<string, number> | undefined, masterState?: string): BaseMessage {
    return message('health', {
      code: 'SUCCESS',
      data: {
        healthData: {
          ...(jvm ? { jvm } : {}),
          ...(masterState
            ? { masterBizInfo: { bizName: 'base', bizState: masterState, bizVersion: '1' } }
            : {}),
        },
      },
    });
  }

  it('reports no memory figure when the metaspace has no limit (-1)', () => {
    const event = expectType(
      eventOf(healthWith({ 'java max metaspace': -1, 'java committed metaspace': 83886080 })),
      'health',
    );
    expect(event).not.toHaveProperty('memory');
    expect(event.activated).toBe(true);
  });

  it('reports no memory figure when the base sends no jvm section', () => {
    expect(eventOf(healthWith(undefined))).not.toHaveProperty('memory');
  });

  it('takes the whole limit as allocatable when the committed figure is missing', () => {
    const event = expectType(eventOf(healthWith({ 'java max metaspace': 1_000_000 })), 'health');
    expect(event.memory).toEqual({ capacityBytes: 1_000_000, allocatableBytes: 1_000_000 });
  });

  it('never reports negative headroom when more is committed than the limit', () => {
    const event = expectType(
      eventOf(healthWith({ 'java max metaspace': 1_000_000, 'java committed metaspace': 2_000_000 })),
      'health',
    );
    expect(event.memory).toEqual({ capacityBytes: 1_000_000, allocatableBytes: 0 });
  });

  it('never reports more allocatable than capacity when the committed figure is unknown (-1)', () => {
    const event = expectType(
      eventOf(healthWith({ 'java max metaspace': 1_000_000, 'java committed metaspace': -1 })),
      'health',
    );
    expect(event.memory).toEqual({ capacityBytes: 1_000_000, allocatableBytes: 1_000_000 });
  });

  it.each([
    ['ACTIVATED', true],
    ['activated', true],
    ['DEACTIVATED', false],
  ])('reads the base state %s from masterBizInfo as activated=%s', (state, activated) => {
    expect(expectType(eventOf(healthWith(undefined, state)), 'health').activated).toBe(activated);
  });

  it('drops a health reply whose code is not SUCCESS', () => {
    expect(toTunnelEvent(BASE, message('health', { code: 'FAILED', message: 'boom' }))).toBeUndefined();
  });

  it('accepts the SUCCESS code in any case', () => {
    expect(toTunnelEvent(BASE, message('health', { code: 'success', data: {} }))).toMatchObject({
      type: 'health',
      activated: true,
    });
  });
});

describe('toTunnelEvent: simpleBiz inventory', () => {
  it('turns the golden simpleBiz reply into a complete inventory with the record time and reason', async () => {
    expect(eventOf(await golden('simpleBiz', 'base-simpleBiz.json'))).toEqual({
      type: 'inventory',
      baseId: BASE,
      at: 1727000003000,
      items: [
        {
          bizName: 'biz1',
          bizVersion: '0.0.1',
          state: 'ACTIVATED',
          rawState: 'activated',
          reason: 'STARTED',
          message: undefined,
          changeTime: 1727000000500,
        },
      ],
    });
  });

  it('uses the publish time, and no reason or message, for a biz without a state record', () => {
    const event = expectType(
      eventOf(
        message(
          'simpleBiz',
          [{ name: 'biz1', version: '1', state: 'resolved', latestStateRecord: null }],
          NOW - 5000,
        ),
      ),
      'inventory',
    );
    expect(event.items).toEqual([
      {
        bizName: 'biz1',
        bizVersion: '1',
        state: 'RESOLVED',
        rawState: 'resolved',
        reason: undefined,
        message: undefined,
        changeTime: NOW - 5000,
      },
    ]);
  });

  it('uses the publish time, and ignores the record, when the record has no change time', () => {
    const event = expectType(
      eventOf(
        message(
          'simpleBiz',
          [
            {
              name: 'biz1',
              version: '1',
              state: 'deactivated',
              latestStateRecord: { changeTime: 0, state: 'DEACTIVATED', reason: 'SWITCHED', message: 'old' },
            },
          ],
          NOW - 7000,
        ),
      ),
      'inventory',
    );
    expect(event.items[0]).toMatchObject({
      state: 'DEACTIVATED',
      reason: undefined,
      message: undefined,
      changeTime: NOW - 7000,
    });
  });

  it('keeps the reason and message of a record with a change time', () => {
    const event = expectType(
      eventOf(
        message('simpleBiz', [
          {
            name: 'biz1',
            version: '1',
            state: 'deactivated',
            latestStateRecord: {
              changeTime: 1234,
              state: 'DEACTIVATED',
              reason: 'SWITCHED',
              message: 'by biz1:2',
            },
          },
        ]),
      ),
      'inventory',
    );
    expect(event.items[0]).toMatchObject({ reason: 'SWITCHED', message: 'by biz1:2', changeTime: 1234 });
  });

  it('keeps a state it cannot name as the raw string, with no state', () => {
    const event = expectType(
      eventOf(message('simpleBiz', [{ name: 'biz1', version: '1', state: '3', latestStateRecord: null }])),
      'inventory',
    );
    expect(event.items[0]).toMatchObject({ state: undefined, rawState: '3' });
  });

  it('turns an empty list into an empty inventory', () => {
    expect(eventOf(message('simpleBiz', []))).toMatchObject({ type: 'inventory', items: [] });
  });
});

describe('toTunnelEvent: legacy biz inventory', () => {
  it('takes the newest state record of each biz', () => {
    const event = expectType(
      eventOf(
        message('biz', {
          code: 'SUCCESS',
          data: [
            {
              bizName: 'biz1',
              bizVersion: '1',
              bizState: 'ACTIVATED',
              bizStateRecords: [
                { changeTime: 100, state: 'RESOLVED', reason: 'CREATED' },
                { changeTime: 300, state: 'ACTIVATED', reason: 'STARTED', message: 'up' },
                { changeTime: 200, state: 'RESOLVED', reason: 'CREATED' },
              ],
            },
          ],
        }),
      ),
      'inventory',
    );
    expect(event.items).toEqual([
      {
        bizName: 'biz1',
        bizVersion: '1',
        state: 'ACTIVATED',
        rawState: 'ACTIVATED',
        reason: 'STARTED',
        message: 'up',
        changeTime: 300,
      },
    ]);
  });

  it('uses the publish time for a biz without records', () => {
    const event = expectType(
      eventOf(
        message(
          'biz',
          { code: 'SUCCESS', data: [{ bizName: 'biz1', bizVersion: '1', bizState: 'ACTIVATED' }] },
          NOW - 4000,
        ),
      ),
      'inventory',
    );
    expect(event.items[0]).toMatchObject({ changeTime: NOW - 4000, reason: undefined });
  });

  it('does not take a failed reply for a complete (empty) inventory', () => {
    expect(toTunnelEvent(BASE, message('biz', { code: 'FAILED', message: 'query failed' }))).toBeUndefined();
  });
});

describe('toTunnelEvent: bizOperation', () => {
  it('turns the golden install success into a successful installBiz operation, ACTIVATED', async () => {
    expect(eventOf(await golden('bizOperation', 'base-bizOperation-install-success.json'))).toEqual({
      type: 'operation',
      baseId: BASE,
      at: 1727000004000,
      command: 'installBiz',
      bizName: 'biz1',
      bizVersion: '0.0.1',
      success: true,
      code: 'SUCCESS',
      message: 'Install Biz: biz1:0.0.1 success, cost: 1092 ms, started at: 16:07:47,769',
      state: 'ACTIVATED',
    });
  });

  it("turns the golden REPEAT_BIZ reply into a failed install with SOFAArk's code and message", async () => {
    expect(eventOf(await golden('bizOperation', 'base-bizOperation-install-repeat.json'))).toEqual({
      type: 'operation',
      baseId: BASE,
      at: 1727000005000,
      command: 'installBiz',
      bizName: 'biz1',
      bizVersion: '0.0.1',
      success: false,
      code: 'REPEAT_BIZ',
      message: 'Biz: biz1:0.0.1 has been installed or registered.',
      state: undefined,
    });
  });

  it('reads an uninstall of an unknown biz as NOT_FOUND_BIZ', () => {
    const event = eventOf(
      message('bizOperation', {
        bizName: 'biz1',
        bizVersion: '1',
        command: 'uninstallBiz',
        response: {
          code: 'FAILED',
          data: { code: 'NOT_FOUND_BIZ', message: 'biz not found' },
          message: 'uninstall biz not success!',
        },
      }),
    );
    expect(event).toMatchObject({
      type: 'operation',
      command: 'uninstallBiz',
      success: false,
      code: 'NOT_FOUND_BIZ',
      message: 'biz not found',
      state: undefined,
    });
  });

  it('reads the state an operation left from bizInfos, in any case', () => {
    const event = eventOf(
      message('bizOperation', {
        bizName: 'biz1',
        bizVersion: '2',
        command: 'installBiz',
        response: {
          code: 'SUCCESS',
          data: {
            code: 'SUCCESS',
            bizInfos: [{ bizName: 'biz1', bizVersion: '2', bizState: 'deactivated' }],
          },
        },
      }),
    );
    expect(event).toMatchObject({ success: true, state: 'DEACTIVATED' });
  });

  it("falls back to arklet's own code and message when there is no client response", () => {
    const event = eventOf(
      message('bizOperation', {
        bizName: 'biz1',
        bizVersion: '1',
        command: 'installBiz',
        response: { code: 'failed', message: 'download failed' },
      }),
    );
    expect(event).toMatchObject({
      success: false,
      code: 'FAILED',
      message: 'download failed',
      state: undefined,
    });
  });

  it('takes the name and version from bizInfos when the reply does not echo them', () => {
    const event = eventOf(
      message('bizOperation', {
        command: 'installBiz',
        response: {
          code: 'SUCCESS',
          data: { code: 'SUCCESS', bizInfos: [{ bizName: 'biz9', bizVersion: '9', bizState: 'ACTIVATED' }] },
        },
      }),
    );
    expect(event).toMatchObject({ bizName: 'biz9', bizVersion: '9' });
  });

  it('gives a reply that names no biz at all empty name and version and an empty message', () => {
    const event = eventOf(message('bizOperation', { command: 'uninstallBiz', response: { code: 'FAILED' } }));
    expect(event).toMatchObject({ bizName: '', bizVersion: '', message: '' });
  });

  it('ignores replies to other commands', () => {
    expect(
      toTunnelEvent(BASE, message('bizOperation', { command: 'switchBiz', response: { code: 'SUCCESS' } })),
    ).toBeUndefined();
  });
});

describe('toTunnelEvent: batchInstallBizResponse', () => {
  it('turns the golden batch reply into one result per jar URL, named from bizInfos', async () => {
    expect(eventOf(await golden('batchInstallBizResponse', 'base-batchInstallBizResponse.json'))).toEqual({
      type: 'batchInstall',
      baseId: BASE,
      at: 1727000001000,
      results: [
        {
          bizUrl: 'https://example.invalid/biz1-0.0.1-ark-biz.jar',
          bizName: 'biz1',
          bizVersion: '0.0.1',
          success: true,
          code: 'SUCCESS',
          state: 'ACTIVATED',
          message: 'Install Biz: biz1:0.0.1 success, cost: 812 ms, started at: 10:00:00,000',
        },
      ],
    });
  });

  it("keeps an entry from arklet's exception path (no bizInfos) as an unnamed failed result", () => {
    const event = expectType(
      eventOf(
        message('batchInstallBizResponse', {
          command: 'batchInstallBiz',
          response: {
            code: 'FAILED',
            data: {
              bizUrlToResponse: {
                'https://repo.example/biz2.jar': { code: 'FAILED', message: 'download failed' },
                'https://repo.example/biz3.jar': { code: 'failed' },
              },
            },
          },
        }),
      ),
      'batchInstall',
    );
    expect(event.results).toEqual([
      {
        bizUrl: 'https://repo.example/biz2.jar',
        bizName: undefined,
        bizVersion: undefined,
        success: false,
        code: 'FAILED',
        state: undefined,
        message: 'download failed',
      },
      {
        bizUrl: 'https://repo.example/biz3.jar',
        bizName: undefined,
        bizVersion: undefined,
        success: false,
        code: 'FAILED',
        state: undefined,
        message: '',
      },
    ]);
  });

  it('gives a batch reply without results no results', () => {
    const event = eventOf(
      message('batchInstallBizResponse', {
        command: 'batchInstallBiz',
        response: { code: 'FAILED', message: 'x' },
      }),
    );
    expect(event).toMatchObject({ type: 'batchInstall', results: [] });
  });

  it('ignores a reply to another command', () => {
    expect(
      toTunnelEvent(
        BASE,
        message('batchInstallBizResponse', { command: 'installBiz', response: { code: 'SUCCESS' } }),
      ),
    ).toBeUndefined();
  });
});
