import { describe, expect, it } from 'vitest';
import type { BaseMessage } from '../../../../core/tunnel/protocol/messages.ts';
import {
  DEFAULT_MAX_AGE_MS,
  isStale,
  parseBaseMessage,
  type ParseResult,
} from '../../../../core/tunnel/protocol/parse-base-message.ts';
import { BASE_MESSAGE_KINDS, type BaseMessageKind } from '../../../../core/tunnel/protocol/topics.ts';
import { readProtocolExample } from '../../../support/protocol-examples.ts';

// just after the newest golden file (they are 1727000000000 … 1727000005000)
const NOW = 1727000006000;

function accepted(result: ParseResult): BaseMessage {
  if (!result.ok) throw new Error(`rejected as ${result.reason}: ${result.detail}`);
  return result.message;
}

function rejection(result: ParseResult): string {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.message)}`);
  return result.reason;
}

function envelope(data: unknown, publishTimestamp: number = NOW): string {
  return JSON.stringify({ data, publishTimestamp });
}

describe('parseBaseMessage on the golden files', () => {
  it.each([
    ['base-heart.json', 'heart'],
    ['base-queryBaseline.json', 'queryBaseline'],
    ['base-health.json', 'health'],
    ['base-simpleBiz.json', 'simpleBiz'],
    ['base-bizOperation-install-success.json', 'bizOperation'],
    ['base-bizOperation-install-repeat.json', 'bizOperation'],
    ['base-batchInstallBizResponse.json', 'batchInstallBizResponse'],
  ] as const)('accepts %s as %s', async (file, kind) => {
    const golden = await readProtocolExample(file);
    const message = accepted(parseBaseMessage(kind, Buffer.from(golden), NOW));
    expect(message.kind).toBe(kind);
    expect(message.data).toEqual((JSON.parse(golden) as { data: unknown }).data);
  });

  it('reads the heartbeat fields a controller uses', async () => {
    const message = accepted(parseBaseMessage('heart', await readProtocolExample('base-heart.json'), NOW));
    expect(message).toEqual({
      kind: 'heart',
      publishTimestamp: 1727000000000,
      data: {
        baseMetadata: { clusterName: 'default', identity: '10.244.0.12', name: 'base', version: '1.0.0' },
        localHostName: 'base-5f9c7d-x2k4p',
        localIP: '10.244.0.12',
        port: 0,
        state: 'activated',
      },
    });
  });

  it('keeps the nulls of simpleBiz', async () => {
    const message = accepted(
      parseBaseMessage('simpleBiz', await readProtocolExample('base-simpleBiz.json'), NOW),
    );
    expect(message.kind === 'simpleBiz' && message.data[0]?.latestStateRecord?.message).toBeNull();
  });
});

describe('parseBaseMessage accepts what real bases send', () => {
  it('ignores unknown fields', () => {
    const message = accepted(
      parseBaseMessage(
        'queryBaseline',
        envelope({ identity: 'b1', name: 'base', version: '1', clusterName: 'c', extra: { deep: [1] } }),
        NOW,
      ),
    );
    expect(message.data).toEqual({ identity: 'b1', name: 'base', version: '1', clusterName: 'c' });
  });

  it('takes a queryBaseline without name (runtime 1.4.0) and null metadata fields', () => {
    const message = accepted(
      parseBaseMessage('queryBaseline', envelope({ identity: 'b1', version: null, clusterName: 'c' }), NOW),
    );
    expect(message.data).toEqual({ identity: 'b1', name: '', version: '', clusterName: 'c' });
  });

  it('takes states in any case', () => {
    const item = { name: 'biz1', version: '1', state: 'DeActivated', latestStateRecord: null };
    const message = accepted(parseBaseMessage('simpleBiz', envelope([item]), NOW));
    expect(message.data).toEqual([item]);
  });

  it('takes a null or absent latestStateRecord and a null record message', () => {
    const record = { changeTime: 5, state: 'ACTIVATED', reason: 'STARTED', message: null };
    const message = accepted(
      parseBaseMessage(
        'simpleBiz',
        envelope([
          { name: 'a', version: '1', state: 'activated', latestStateRecord: null },
          { name: 'b', version: '1', state: 'activated' },
          { name: 'c', version: '1', state: 'activated', latestStateRecord: record },
        ]),
        NOW,
      ),
    );
    expect(message.kind === 'simpleBiz' && message.data.map((info) => info.latestStateRecord)).toEqual([
      null,
      null,
      record,
    ]);
  });

  it('takes batch entries without bizInfos (arklet exception path)', () => {
    const data = {
      command: 'batchInstallBiz',
      response: {
        code: 'FAILED',
        data: {
          bizUrlToResponse: { 'file:///b.jar': { code: 'FAILED', message: 'internal exception: boom' } },
          code: 'FAILED',
          elapsedSpace: -1024,
          message: 'batch install failed',
        },
        message: 'install biz not success!',
      },
    };
    expect(accepted(parseBaseMessage('batchInstallBizResponse', envelope(data, 0), NOW)).data).toEqual(data);
  });

  it('takes a bizOperation from the exception path, without bizName', () => {
    const data = {
      command: 'switchBiz',
      response: { code: 'FAILED', data: { code: 'FAILED', message: 'trace' }, message: 'x' },
    };
    expect(accepted(parseBaseMessage('bizOperation', envelope(data), NOW)).data).toEqual(data);
  });

  it('takes a legacy biz report (T8)', () => {
    const data = {
      code: 'SUCCESS',
      data: [
        {
          bizName: 'biz1',
          bizState: 'ACTIVATED',
          bizVersion: '0.0.1',
          mainClass: 'com.example.Biz1Application',
          webContextPath: 'biz1',
          bizStateRecords: [
            { changeTime: 1, state: 'RESOLVED', reason: 'CREATED' },
            { changeTime: 2, state: 'ACTIVATED', reason: 'STARTED', message: 'ok' },
          ],
          classLoader: { whatever: true },
        },
      ],
      message: '',
    };
    const message = accepted(parseBaseMessage('biz', envelope(data), NOW));
    expect(message.kind === 'biz' && message.data.data?.[0]?.bizStateRecords?.length).toBe(2);
  });

  it('takes a health reply with only some sections and -1 metaspace', () => {
    const data = {
      code: 'SUCCESS',
      data: { healthData: { jvm: { 'java max metaspace': -1, 'java home': null } } },
    };
    const message = accepted(parseBaseMessage('health', envelope(data), NOW));
    expect(message.data).toEqual({
      code: 'SUCCESS',
      data: { healthData: { jvm: { 'java max metaspace': -1 } } },
    });
  });

  it('takes a failed health reply without data', () => {
    expect(
      accepted(parseBaseMessage('health', envelope({ code: 'FAILED', message: 'no' }), NOW)).data,
    ).toEqual({
      code: 'FAILED',
      message: 'no',
    });
  });

  it('reads a payload given as a string', () => {
    expect(parseBaseMessage('queryBaseline', envelope({ identity: 'b1' }), NOW).ok).toBe(true);
  });
});

describe('parseBaseMessage rejects bad input with a reason', () => {
  it.each(BASE_MESSAGE_KINDS)('%s: empty payload', (kind) => {
    expect(rejection(parseBaseMessage(kind, Buffer.alloc(0), NOW))).toBe('empty');
    expect(rejection(parseBaseMessage(kind, '', NOW))).toBe('empty');
  });

  it.each(BASE_MESSAGE_KINDS)('%s: the JSON string "" (upstream suite)', (kind) => {
    expect(rejection(parseBaseMessage(kind, '""', NOW))).toBe('invalid-shape');
  });

  it.each(BASE_MESSAGE_KINDS)('%s: unparsable payloads', (kind) => {
    expect(rejection(parseBaseMessage(kind, '{', NOW))).toBe('unparsable');
    expect(rejection(parseBaseMessage(kind, 'not json', NOW))).toBe('unparsable');
    expect(rejection(parseBaseMessage(kind, '   ', NOW))).toBe('unparsable');
    expect(rejection(parseBaseMessage(kind, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), NOW))).toBe('unparsable');
  });

  it.each(['heart', 'queryBaseline', 'health', 'simpleBiz', 'biz'] as const)(
    '%s: {"publishTimestamp":0} (upstream suite) is stale',
    (kind) => {
      expect(rejection(parseBaseMessage(kind, '{"publishTimestamp":0}', NOW))).toBe('stale');
    },
  );

  it.each(['bizOperation', 'batchInstallBizResponse'] as const)(
    '%s: {"publishTimestamp":0} (upstream suite) has no data',
    (kind) => {
      expect(rejection(parseBaseMessage(kind, '{"publishTimestamp":0}', NOW))).toBe('invalid-shape');
    },
  );

  it.each(BASE_MESSAGE_KINDS)('%s: {"publishTimestamp":now,"data":{"code":""}} (upstream suite)', (kind) => {
    expect(rejection(parseBaseMessage(kind, `{"publishTimestamp":${NOW},"data":{"code":""}}`, NOW))).toBe(
      'invalid-shape',
    );
  });

  it.each(BASE_MESSAGE_KINDS)('%s: envelopes that are not envelopes', (kind) => {
    for (const payload of [
      '[]',
      '1',
      'null',
      'true',
      '{}',
      '{"data":{}}',
      '{"publishTimestamp":"1727000000000","data":{}}',
      '{"publishTimestamp":1.5,"data":{}}',
      '{"publishTimestamp":-1,"data":{}}',
    ]) {
      expect(rejection(parseBaseMessage(kind, payload, NOW)), payload).toBe('invalid-shape');
    }
  });

  it('wrong types in data', () => {
    const heart = {
      baseMetadata: { identity: 'b1', name: 'base', version: '1', clusterName: 'c' },
      localIP: '10.0.0.1',
      localHostName: 'h',
      port: 0,
      state: 'activated',
    };
    expect(parseBaseMessage('heart', envelope(heart), NOW).ok).toBe(true);
    expect(rejection(parseBaseMessage('heart', envelope({ ...heart, port: '0' }), NOW))).toBe(
      'invalid-shape',
    );
    expect(rejection(parseBaseMessage('heart', envelope({ ...heart, state: 1 }), NOW))).toBe('invalid-shape');
    expect(
      rejection(parseBaseMessage('heart', envelope({ ...heart, baseMetadata: { identity: '' } }), NOW)),
    ).toBe('invalid-shape');
    expect(rejection(parseBaseMessage('simpleBiz', envelope({ name: 'biz1' }), NOW))).toBe('invalid-shape');
    expect(rejection(parseBaseMessage('simpleBiz', envelope([{ n: 'biz1', v: '1', s: '3' }]), NOW))).toBe(
      'invalid-shape',
    );
    expect(
      rejection(
        parseBaseMessage(
          'health',
          envelope({ code: 'SUCCESS', data: { healthData: { jvm: { 'java max metaspace': 'big' } } } }),
          NOW,
        ),
      ),
    ).toBe('invalid-shape');
    expect(
      rejection(parseBaseMessage('bizOperation', envelope({ command: 'installBiz', response: 'ok' }), NOW)),
    ).toBe('invalid-shape');
    expect(
      rejection(
        parseBaseMessage(
          'batchInstallBizResponse',
          envelope({
            command: 'batchInstallBiz',
            response: { code: 'SUCCESS', data: { bizUrlToResponse: [] } },
          }),
          NOW,
        ),
      ),
    ).toBe('invalid-shape');
  });

  it('oversized payloads, by the default and by a given limit', () => {
    const big = envelope({ identity: 'b1', name: 'x'.repeat(1024 * 1024) });
    expect(rejection(parseBaseMessage('queryBaseline', big, NOW))).toBe('oversized');
    const small = envelope({ identity: 'b1' });
    expect(rejection(parseBaseMessage('queryBaseline', small, NOW, { maxBytes: 10 }))).toBe('oversized');
    expect(parseBaseMessage('queryBaseline', small, NOW, { maxBytes: Buffer.byteLength(small) }).ok).toBe(
      true,
    );
  });

  it('stale timestamps: publishTimestamp + maxAge <= now, in whole milliseconds', () => {
    const data = { identity: 'b1' };
    expect(parseBaseMessage('queryBaseline', envelope(data, NOW - DEFAULT_MAX_AGE_MS + 1), NOW).ok).toBe(
      true,
    );
    expect(rejection(parseBaseMessage('queryBaseline', envelope(data, NOW - DEFAULT_MAX_AGE_MS), NOW))).toBe(
      'stale',
    );
    // upstream compared seconds-of-minute: a message a whole minute old looked fresh there
    expect(rejection(parseBaseMessage('queryBaseline', envelope(data, NOW - 60_000), NOW))).toBe('stale');
    expect(parseBaseMessage('queryBaseline', envelope(data, NOW - 4000), NOW, { maxAgeMs: 5000 }).ok).toBe(
      true,
    );
    expect(
      rejection(parseBaseMessage('queryBaseline', envelope(data, NOW - 5000), NOW, { maxAgeMs: 5000 })),
    ).toBe('stale');
    // a base clock ahead of ours is not stale
    expect(parseBaseMessage('queryBaseline', envelope(data, NOW + 60_000), NOW).ok).toBe(true);
    expect(isStale(1000, 11_000)).toBe(true);
    expect(isStale(1001, 11_000)).toBe(false);
  });

  it('never ages operation replies', async () => {
    const old = (await readProtocolExample('base-bizOperation-install-success.json')).replace(
      /"publishTimestamp":\d+/,
      '"publishTimestamp":1',
    );
    expect(parseBaseMessage('bizOperation', old, NOW).ok).toBe(true);
    const batch = (await readProtocolExample('base-batchInstallBizResponse.json')).replace(
      /"publishTimestamp":\d+/,
      '"publishTimestamp":1',
    );
    expect(parseBaseMessage('batchInstallBizResponse', batch, NOW).ok).toBe(true);
  });

  it('an unknown kind from an untyped caller', () => {
    expect(rejection(parseBaseMessage('nope' as BaseMessageKind, envelope({}), NOW))).toBe('invalid-shape');
  });
});

describe('parseBaseMessage never throws', () => {
  /** Deterministic pseudo-random bytes, so a failure reproduces. */
  function* randomPayloads(seed: number, count: number): Generator<Buffer> {
    let state = seed;
    const next = (): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state;
    };
    for (let index = 0; index < count; index++) {
      const bytes = Buffer.alloc(next() % 64);
      for (let offset = 0; offset < bytes.length; offset++) bytes[offset] = next() % 256;
      yield bytes;
    }
  }

  const SHAPES: readonly unknown[] = [
    null,
    0,
    'x',
    [],
    {},
    [null],
    { data: null, publishTimestamp: NOW },
    { data: [], publishTimestamp: NOW },
    { data: 'x', publishTimestamp: NOW },
    { data: { response: null, command: null }, publishTimestamp: NOW },
    {
      data: { code: 'SUCCESS', data: { healthData: { jvm: [], cpu: 'x', bizListInfo: {} } } },
      publishTimestamp: NOW,
    },
    { data: [{ name: 'a', version: 1, state: null, latestStateRecord: 'x' }], publishTimestamp: NOW },
    { data: { __proto__: { identity: 'x' } }, publishTimestamp: NOW },
    { data: { constructor: 'x', toString: 1 }, publishTimestamp: Number.MAX_SAFE_INTEGER },
    { publishTimestamp: 1e308, data: {} },
  ];

  it.each(BASE_MESSAGE_KINDS)('%s', (kind) => {
    const payloads = [
      ...randomPayloads(kind.length, 200),
      ...SHAPES.map((shape) => Buffer.from(JSON.stringify(shape))),
      Buffer.from('{"publishTimestamp":1,"data":' + '['.repeat(5000) + ']'.repeat(5000) + '}'),
    ];
    for (const payload of payloads) {
      const result = parseBaseMessage(kind, payload, NOW);
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok)
        expect(['empty', 'oversized', 'unparsable', 'stale', 'invalid-shape']).toContain(result.reason);
    }
  });
});
