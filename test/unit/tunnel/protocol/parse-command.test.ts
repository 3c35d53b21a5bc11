import { describe, expect, it } from 'vitest';
import { encodeBaseMessage, encodeCommand } from '../../../../core/tunnel/protocol/encode-message.ts';
import { parseCommand, type CommandParseResult } from '../../../../core/tunnel/protocol/parse-command.ts';
import { COMMAND_KINDS } from '../../../../core/tunnel/protocol/topics.ts';
import { readProtocolExample } from '../../../support/protocol-examples.ts';

function rejection(result: CommandParseResult): string {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.command)}`);
  return result.reason;
}

const BIZ1 = {
  bizName: 'biz1',
  bizUrl: 'https://example.invalid/biz1-0.0.1-ark-biz.jar',
  bizVersion: '0.0.1',
};

describe('parseCommand', () => {
  it('reads the golden installBiz, uninstallBiz and baseline', async () => {
    expect(parseCommand('installBiz', await readProtocolExample('installBiz.json'))).toEqual({
      ok: true,
      command: { kind: 'installBiz', payload: BIZ1 },
    });
    expect(parseCommand('uninstallBiz', await readProtocolExample('uninstallBiz.json'))).toEqual({
      ok: true,
      command: { kind: 'uninstallBiz', payload: BIZ1 },
    });
    expect(parseCommand('baseline', Buffer.from(await readProtocolExample('baseline.json')))).toEqual({
      ok: true,
      command: { kind: 'baseline', payload: [BIZ1] },
    });
  });

  it('reads {} for health and queryAllBiz', () => {
    expect(parseCommand('healthQuery', '{}')).toEqual({
      ok: true,
      command: { kind: 'healthQuery', payload: {} },
    });
    expect(parseCommand('queryAllBiz', '{}')).toEqual({
      ok: true,
      command: { kind: 'queryAllBiz', payload: {} },
    });
  });

  it('keeps optional install fields and drops unknown ones; a BizModel may miss fields', () => {
    const payload = { ...BIZ1, args: ['--a'], envs: { K: 'v' }, installStrategy: 'installOnly', extra: 1 };
    const parsed = parseCommand('installBiz', JSON.stringify(payload));
    expect(parsed.ok && parsed.command.payload).toEqual({
      ...BIZ1,
      args: ['--a'],
      envs: { K: 'v' },
      installStrategy: 'installOnly',
    });
    expect(parseCommand('uninstallBiz', '{"bizName":"biz1"}').ok).toBe(true);
  });

  it.each(COMMAND_KINDS)('%s: rejects empty, unparsable and oversized payloads', (kind) => {
    expect(rejection(parseCommand(kind, ''))).toBe('empty');
    expect(rejection(parseCommand(kind, '{'))).toBe('unparsable');
    expect(rejection(parseCommand(kind, '[{}]'.padEnd(64, ' '), { maxBytes: 16 }))).toBe('oversized');
  });

  it('rejects payloads of the wrong shape', () => {
    expect(rejection(parseCommand('baseline', JSON.stringify(BIZ1)))).toBe('invalid-shape');
    expect(rejection(parseCommand('installBiz', JSON.stringify([BIZ1])))).toBe('invalid-shape');
    expect(rejection(parseCommand('installBiz', '{"bizName":1}'))).toBe('invalid-shape');
    expect(rejection(parseCommand('queryAllBiz', '[]'))).toBe('invalid-shape');
    expect(rejection(parseCommand('healthQuery', '""'))).toBe('invalid-shape');
    expect(rejection(parseCommand('nope' as 'installBiz', '{}'))).toBe('invalid-shape');
  });
});

describe('encodeCommand / encodeBaseMessage', () => {
  it('writes commands like the golden files', async () => {
    expect(encodeCommand('installBiz', BIZ1)).toBe(await readProtocolExample('installBiz.json'));
    expect(encodeCommand('baseline', [BIZ1])).toBe(await readProtocolExample('baseline.json'));
    expect(encodeCommand('queryAllBiz', {})).toBe('{}');
  });

  it('writes nulls in simpleBiz only', () => {
    const record = { changeTime: 1, message: null, reason: 'STARTED', state: 'ACTIVATED' };
    expect(
      encodeBaseMessage(
        'simpleBiz',
        [{ latestStateRecord: null, name: 'a', state: 'activated', version: '1' }],
        7,
      ),
    ).toBe(
      '{"data":[{"latestStateRecord":null,"name":"a","state":"activated","version":"1"}],"publishTimestamp":7}',
    );
    expect(
      encodeBaseMessage(
        'bizOperation',
        {
          command: 'installBiz',
          bizName: 'a',
          bizVersion: undefined,
          response: { code: 'SUCCESS', data: { code: 'SUCCESS', message: null } },
        },
        7,
      ),
    ).toBe(
      '{"data":{"bizName":"a","command":"installBiz","response":{"code":"SUCCESS","data":{"code":"SUCCESS"}}},"publishTimestamp":7}',
    );
    expect(
      encodeBaseMessage(
        'simpleBiz',
        [{ latestStateRecord: record, name: 'a', state: 'activated', version: '1' }],
        7,
      ),
    ).toContain('"message":null');
  });
});
