import { describe, expect, it } from 'vitest';
import { BaseModel, type OutboundMessage, type Step } from '../../../core/sim/base-model.ts';
import { DEFAULT_BEHAVIOUR, type BaseModelConfig } from '../../../core/sim/sim-config.ts';
import { formatStartedAt } from '../../../core/sim/arklet-replies.ts';
import type { EncodableBaseMessageData } from '../../../core/tunnel/protocol/encode-message.ts';
import type { BizModel, Command } from '../../../core/tunnel/protocol/messages.ts';
import type { BaseMessageKind } from '../../../core/tunnel/protocol/topics.ts';

const T0 = 1727000000000;

function config(overrides: Partial<BaseModelConfig> = {}): BaseModelConfig {
  return {
    ...DEFAULT_BEHAVIOUR,
    identity: '10.244.0.12',
    localIP: '10.244.0.12',
    hostname: 'base-1',
    ...overrides,
  };
}

function biz(bizName: string, bizVersion: string): BizModel {
  return { bizName, bizUrl: `https://example.invalid/${bizName}-${bizVersion}-ark-biz.jar`, bizVersion };
}

const install = (model: BizModel): Command => ({ kind: 'installBiz', payload: model });
const uninstall = (model: BizModel): Command => ({ kind: 'uninstallBiz', payload: model });
const baseline = (...models: BizModel[]): Command => ({ kind: 'baseline', payload: models });
const QUERY_ALL: Command = { kind: 'queryAllBiz', payload: {} };
const HEALTH: Command = { kind: 'healthQuery', payload: {} };

/** The one message a step publishes, which must be of `kind`. */
function only<K extends BaseMessageKind>(step: Step, kind: K): EncodableBaseMessageData[K] {
  expect(step.publish.map((message) => message.kind)).toEqual([kind]);
  const message: OutboundMessage | undefined = step.publish[0];
  if (message === undefined) throw new Error(`expected one ${kind}`);
  return message.data as EncodableBaseMessageData[K];
}

function states(model: BaseModel): Record<string, string> {
  return Object.fromEntries(
    model.bizs().map((entry) => [`${entry.bizName}:${entry.bizVersion}`, entry.state]),
  );
}

describe('BaseModel install and uninstall', () => {
  it('installs at once when there is no latency, and answers SUCCESS', () => {
    const model = new BaseModel(config());
    const step = model.handle(install(biz('biz1', '0.0.1')), T0);
    expect(step.schedule).toEqual([]);
    expect(step.changes).toEqual([
      { at: T0, bizName: 'biz1', bizVersion: '0.0.1', from: undefined, to: 'RESOLVED' },
      { at: T0, bizName: 'biz1', bizVersion: '0.0.1', from: 'RESOLVED', to: 'ACTIVATED' },
    ]);
    expect(only(step, 'bizOperation')).toEqual({
      bizName: 'biz1',
      bizVersion: '0.0.1',
      command: 'installBiz',
      response: {
        code: 'SUCCESS',
        data: {
          bizInfos: [{ bizName: 'biz1', bizState: 'ACTIVATED', bizVersion: '0.0.1' }],
          code: 'SUCCESS',
          elapsedSpace: DEFAULT_BEHAVIOUR.elapsedSpacePerInstall,
          message: `Install Biz: biz1:0.0.1 success, cost: 0 ms, started at: ${formatStartedAt(T0)}`,
        },
      },
    });
  });

  it('answers REPEAT_BIZ for a biz already registered, in the golden shape', () => {
    const model = new BaseModel(config());
    model.handle(install(biz('biz1', '0.0.1')), T0);
    const step = model.handle(install(biz('biz1', '0.0.1')), T0 + 1);
    expect(step.changes).toEqual([]);
    expect(only(step, 'bizOperation')).toEqual({
      bizName: 'biz1',
      bizVersion: '0.0.1',
      command: 'installBiz',
      response: {
        code: 'FAILED',
        data: {
          code: 'REPEAT_BIZ',
          elapsedSpace: 0,
          message: 'Biz: biz1:0.0.1 has been installed or registered.',
        },
        message: 'install biz not success!',
      },
    });
  });

  it('answers NOT_FOUND_BIZ for an unknown biz, and SUCCESS for a known one', () => {
    const model = new BaseModel(config());
    expect(only(model.handle(uninstall(biz('biz1', '0.0.1')), T0), 'bizOperation').response).toEqual({
      code: 'FAILED',
      data: { code: 'NOT_FOUND_BIZ', message: 'Uninstall biz: biz1:0.0.1 not found.' },
      message: 'uninstall biz not success!',
    });
    model.handle(install(biz('biz1', '0.0.1')), T0);
    const step = model.handle(uninstall(biz('biz1', '0.0.1')), T0 + 5);
    expect(only(step, 'bizOperation')).toEqual({
      bizName: 'biz1',
      bizVersion: '0.0.1',
      command: 'uninstallBiz',
      response: { code: 'SUCCESS', data: { code: 'SUCCESS', message: 'Uninstall biz: biz1:0.0.1 success.' } },
    });
    expect(step.changes).toEqual([
      { at: T0 + 5, bizName: 'biz1', bizVersion: '0.0.1', from: 'ACTIVATED', to: undefined },
    ]);
    expect(model.bizs()).toEqual([]);
  });

  it.each([
    [{ bizName: 'biz1', bizVersion: '0.0.1' }, 'bizUrl should not be blank'],
    [
      { bizName: 'biz1', bizUrl: 'file:///b.jar' },
      'bizName and bizVersion should be both blank or both not blank.',
    ],
    [
      { bizUrl: 'file:///b.jar' },
      'refresh biz info from jar failed: the simulated base cannot read biz jars',
    ],
  ])('answers an invalid install %j the way arklet does', (payload, message) => {
    const step = new BaseModel(config()).handle(install(payload), T0);
    expect(only(step, 'bizOperation')).toEqual({
      ...('bizName' in payload ? { bizName: payload.bizName } : {}),
      ...('bizVersion' in payload ? { bizVersion: payload.bizVersion } : {}),
      command: 'installBiz',
      response: { code: 'FAILED', data: { code: 'FAILED', message }, message },
    });
  });

  it('answers an uninstall without version with a failure', () => {
    const step = new BaseModel(config()).handle(uninstall({ bizName: 'biz1' }), T0);
    expect(only(step, 'bizOperation').response.data?.message).toBe('bizVersion should not be blank');
  });

  it('takes install latency: RESOLVED meanwhile, then ACTIVATED with the real cost', () => {
    const model = new BaseModel(config({ installLatencyMs: 800 }));
    const started = model.handle(install(biz('biz1', '0.0.1')), T0);
    expect(started.publish).toEqual([]);
    expect(started.schedule).toHaveLength(1);
    expect(started.schedule[0]?.afterMs).toBe(800);
    expect(only(model.handle(QUERY_ALL, T0 + 10), 'simpleBiz')).toEqual([
      {
        latestStateRecord: { changeTime: T0, message: null, reason: 'CREATED', state: 'RESOLVED' },
        name: 'biz1',
        state: 'resolved',
        version: '0.0.1',
      },
    ]);
    // an uninstall while starting is refused by SOFAArk
    expect(
      only(model.handle(uninstall(biz('biz1', '0.0.1')), T0 + 20), 'bizOperation').response.message,
    ).toBe('BizState must be ACTIVATED, DEACTIVATED or BROKEN.');
    const token = started.schedule[0]?.token;
    if (token === undefined) throw new Error('no scheduled work');
    const done = model.complete(token, T0 + 812);
    expect(only(done, 'bizOperation').response.data?.message).toBe(
      `Install Biz: biz1:0.0.1 success, cost: 812 ms, started at: ${formatStartedAt(T0)}`,
    );
    expect(states(model)).toEqual({ 'biz1:0.0.1': 'ACTIVATED' });
  });

  it('takes per-biz latency', () => {
    const model = new BaseModel(
      config({ installLatencyMs: ({ bizName }) => (bizName === 'slow' ? 1000 : 0) }),
    );
    expect(model.handle(install(biz('slow', '1')), T0).schedule[0]?.afterMs).toBe(1000);
    expect(model.handle(install(biz('fast', '1')), T0).schedule).toEqual([]);
  });

  it('takes uninstall latency: DEACTIVATED (KILLING) meanwhile, then gone', () => {
    const model = new BaseModel(config({ uninstallLatencyMs: 300 }));
    model.handle(install(biz('biz1', '1')), T0);
    const started = model.handle(uninstall(biz('biz1', '1')), T0 + 1);
    expect(started.publish).toEqual([]);
    expect(started.changes).toEqual([
      { at: T0 + 1, bizName: 'biz1', bizVersion: '1', from: 'ACTIVATED', to: 'DEACTIVATED' },
    ]);
    expect(model.bizs()[0]?.records.at(-1)).toEqual({
      changeTime: T0 + 1,
      state: 'DEACTIVATED',
      reason: 'KILLING',
      message: null,
    });
    const token = started.schedule[0]?.token;
    if (token === undefined) throw new Error('no scheduled work');
    expect(only(model.complete(token, T0 + 301), 'bizOperation').response.code).toBe('SUCCESS');
    expect(model.bizs()).toEqual([]);
  });
});

describe('BaseModel activation modes', () => {
  it('multi-version keeps both versions ACTIVATED', () => {
    const model = new BaseModel(config({ activationMode: 'multi-version' }));
    model.handle(install(biz('biz1', '1')), T0);
    model.handle(install(biz('biz1', '2')), T0 + 1);
    expect(states(model)).toEqual({ 'biz1:1': 'ACTIVATED', 'biz1:2': 'ACTIVATED' });
  });

  it('switch activates the new version first, then deactivates the old one with reason SWITCHED', () => {
    const model = new BaseModel(config({ activationMode: 'switch' }));
    model.handle(install(biz('biz1', '1')), T0);
    model.handle(install(biz('other', '1')), T0);
    const step = model.handle(install(biz('biz1', '2')), T0 + 1);
    expect(step.changes.map((change) => [change.bizVersion, change.to])).toEqual([
      ['2', 'RESOLVED'],
      ['2', 'ACTIVATED'],
      ['1', 'DEACTIVATED'],
    ]);
    expect(states(model)).toEqual({ 'biz1:1': 'DEACTIVATED', 'other:1': 'ACTIVATED', 'biz1:2': 'ACTIVATED' });
    const simple = only(model.handle(QUERY_ALL, T0 + 2), 'simpleBiz');
    expect(simple.find((info) => info.version === '1' && info.name === 'biz1')).toEqual({
      latestStateRecord: { changeTime: T0 + 1, message: null, reason: 'SWITCHED', state: 'DEACTIVATED' },
      name: 'biz1',
      state: 'deactivated',
      version: '1',
    });
  });

  it('install-deactivated leaves the new version DEACTIVATED while the old one runs', () => {
    const model = new BaseModel(config({ activationMode: 'install-deactivated' }));
    model.handle(install(biz('biz1', '1')), T0);
    const step = model.handle(install(biz('biz1', '2')), T0 + 1);
    expect(only(step, 'bizOperation').response.data?.bizInfos).toEqual([
      { bizName: 'biz1', bizState: 'DEACTIVATED', bizVersion: '2' },
    ]);
    expect(states(model)).toEqual({ 'biz1:1': 'ACTIVATED', 'biz1:2': 'DEACTIVATED' });
    // with the old one gone, a new version starts ACTIVATED again
    model.handle(uninstall(biz('biz1', '1')), T0 + 2);
    model.handle(uninstall(biz('biz1', '2')), T0 + 2);
    model.handle(install(biz('biz1', '3')), T0 + 3);
    expect(states(model)).toEqual({ 'biz1:3': 'ACTIVATED' });
  });

  it('activates in install order when installs overlap', () => {
    const model = new BaseModel(config({ activationMode: 'switch', installLatencyMs: 100 }));
    const first = model.handle(install(biz('biz1', '1')), T0).schedule[0]?.token;
    const second = model.handle(install(biz('biz1', '2')), T0 + 10).schedule[0]?.token;
    if (first === undefined || second === undefined) throw new Error('no scheduled work');
    model.complete(first, T0 + 100);
    model.complete(second, T0 + 110);
    expect(states(model)).toEqual({ 'biz1:1': 'DEACTIVATED', 'biz1:2': 'ACTIVATED' });
  });
});

describe('BaseModel failing installs', () => {
  it('answers like arklet’s exception path and keeps the biz BROKEN with its reason', () => {
    const model = new BaseModel(
      config({ failingInstalls: [{ bizName: 'biz1', message: 'port 8080 in use' }] }),
    );
    const step = model.handle(install(biz('biz1', '0.0.1')), T0);
    expect(only(step, 'bizOperation')).toEqual({
      bizName: 'biz1',
      bizVersion: '0.0.1',
      command: 'installBiz',
      response: {
        code: 'FAILED',
        data: { code: 'FAILED', message: 'port 8080 in use' },
        message: 'port 8080 in use',
      },
    });
    expect(only(model.handle(QUERY_ALL, T0), 'simpleBiz')[0]).toEqual({
      latestStateRecord: {
        changeTime: T0,
        message: 'port 8080 in use',
        reason: 'INSTALL_FAILED',
        state: 'BROKEN',
      },
      name: 'biz1',
      state: 'broken',
      version: '0.0.1',
    });
    // still registered: a retry is a REPEAT_BIZ until it is uninstalled
    expect(
      only(model.handle(install(biz('biz1', '0.0.1')), T0 + 1), 'bizOperation').response.data?.code,
    ).toBe('REPEAT_BIZ');
    expect(only(model.handle(uninstall(biz('biz1', '0.0.1')), T0 + 2), 'bizOperation').response.code).toBe(
      'SUCCESS',
    );
  });

  it('removes the failed biz with autoUninstallWhenFailed', () => {
    const model = new BaseModel(
      config({ failingInstalls: [{ bizName: 'biz1' }], autoUninstallWhenFailed: true }),
    );
    const step = model.handle(install(biz('biz1', '0.0.1')), T0);
    expect(only(step, 'bizOperation').response.message).toBe('simulated start failure of biz1:0.0.1');
    expect(step.changes.map((change) => change.to)).toEqual(['RESOLVED', 'BROKEN', undefined]);
    expect(model.bizs()).toEqual([]);
  });

  it('fails only the chosen version when one is given', () => {
    const model = new BaseModel(config({ failingInstalls: [{ bizName: 'biz1', bizVersion: '2' }] }));
    model.handle(install(biz('biz1', '1')), T0);
    model.handle(install(biz('biz1', '2')), T0);
    expect(states(model)).toEqual({ 'biz1:1': 'ACTIVATED', 'biz1:2': 'BROKEN' });
  });
});

describe('BaseModel statically merged modules', () => {
  it('starts them ACTIVATED at boot, never through a command', () => {
    const model = new BaseModel(config({ staticModules: [{ bizName: 'static1', bizVersion: '1.0' }] }));
    const changes = model.boot(T0);
    expect(changes.map((change) => change.to)).toEqual(['RESOLVED', 'ACTIVATED']);
    expect(model.bizs()).toEqual([
      expect.objectContaining({
        bizName: 'static1',
        bizVersion: '1.0',
        origin: 'static',
        state: 'ACTIVATED',
      }),
    ]);
    expect(
      only(model.handle(install(biz('static1', '1.0')), T0 + 1), 'bizOperation').response.data?.code,
    ).toBe('REPEAT_BIZ');
  });

  it('can be uninstalled like any biz', () => {
    const model = new BaseModel(config({ staticModules: [{ bizName: 'static1', bizVersion: '1.0' }] }));
    model.boot(T0);
    expect(only(model.handle(uninstall(biz('static1', '1.0')), T0 + 1), 'bizOperation').response.code).toBe(
      'SUCCESS',
    );
  });
});

describe('BaseModel baseline batch install', () => {
  it('installs every item and answers in the golden shape', () => {
    const model = new BaseModel(config());
    const step = model.handle(baseline(biz('biz1', '0.0.1')), T0);
    expect(only(step, 'batchInstallBizResponse')).toEqual({
      command: 'batchInstallBiz',
      response: {
        code: 'SUCCESS',
        data: {
          bizUrlToResponse: {
            'https://example.invalid/biz1-0.0.1-ark-biz.jar': {
              bizInfos: [
                {
                  bizName: 'biz1',
                  bizState: 'ACTIVATED',
                  bizVersion: '0.0.1',
                  mainClass: 'com.example.Biz1Application',
                  webContextPath: 'biz1',
                },
              ],
              code: 'SUCCESS',
              message: `Install Biz: biz1:0.0.1 success, cost: 0 ms, started at: ${formatStartedAt(T0)}`,
            },
          },
          code: 'SUCCESS',
          elapsedSpace: DEFAULT_BEHAVIOUR.elapsedSpacePerInstall,
          message: 'batch install success',
        },
        message: undefined,
      },
    });
  });

  it('answers once, after the slowest item, with REPEAT_BIZ and failure entries', () => {
    const model = new BaseModel(
      config({
        staticModules: [{ bizName: 'static1', bizVersion: '1' }],
        failingInstalls: [{ bizName: 'bad', message: 'boom' }],
        installLatencyMs: ({ bizName }) => (bizName === 'slow' ? 500 : 100),
      }),
    );
    model.boot(T0);
    const step = model.handle(
      baseline(biz('static1', '1'), biz('slow', '1'), biz('bad', '1'), biz('quick', '1')),
      T0,
    );
    expect(step.publish).toEqual([]);
    expect(step.schedule.map((work) => work.afterMs)).toEqual([500, 100, 100]);
    const [slow, bad, quick] = step.schedule.map((work) => work.token);
    if (slow === undefined || bad === undefined || quick === undefined) throw new Error('missing work');
    expect(model.complete(bad, T0 + 100).publish).toEqual([]);
    expect(model.complete(quick, T0 + 100).publish).toEqual([]);
    const reply = only(model.complete(slow, T0 + 500), 'batchInstallBizResponse');
    expect(reply.response.code).toBe('FAILED');
    expect(reply.response.message).toBe('install biz not success!');
    expect(reply.response.data?.message).toBe('batch install failed');
    expect(reply.response.data?.elapsedSpace).toBe(2 * DEFAULT_BEHAVIOUR.elapsedSpacePerInstall);
    const entries = reply.response.data?.bizUrlToResponse ?? {};
    expect(entries['https://example.invalid/static1-1-ark-biz.jar']).toEqual({
      code: 'REPEAT_BIZ',
      message: 'Biz: static1:1 has been installed or registered.',
    });
    expect(entries['https://example.invalid/bad-1-ark-biz.jar']).toEqual({
      code: 'FAILED',
      message: 'internal exception: boom',
    });
    expect(entries['https://example.invalid/slow-1-ark-biz.jar']?.message).toMatch(
      /^Install Biz: slow:1 success, cost: 500 ms/,
    );
    expect(entries['https://example.invalid/quick-1-ark-biz.jar']?.code).toBe('SUCCESS');
    expect(states(model)).toEqual({
      'static1:1': 'ACTIVATED',
      'slow:1': 'ACTIVATED',
      'bad:1': 'BROKEN',
      'quick:1': 'ACTIVATED',
    });
  });

  it('rejects the whole batch when one item is invalid', () => {
    const model = new BaseModel(config());
    const reply = only(
      model.handle(baseline(biz('biz1', '1'), { bizName: 'x' }), T0),
      'batchInstallBizResponse',
    );
    expect(reply).toEqual({
      command: 'batchInstallBiz',
      response: {
        code: 'FAILED',
        data: { code: 'FAILED', message: 'bizUrl should not be blank' },
        message: 'bizUrl should not be blank',
      },
    });
    expect(model.bizs()).toEqual([]);
  });

  it('answers an empty baseline with an empty success', () => {
    const reply = only(new BaseModel(config()).handle(baseline(), T0), 'batchInstallBizResponse');
    expect(reply.response.code).toBe('SUCCESS');
    expect(reply.response.data?.bizUrlToResponse).toEqual({});
  });

  it('applies the activation mode to batch items, in item order', () => {
    const model = new BaseModel(config({ activationMode: 'switch' }));
    model.handle(baseline(biz('biz1', '1'), biz('biz1', '2')), T0);
    expect(states(model)).toEqual({ 'biz1:1': 'DEACTIVATED', 'biz1:2': 'ACTIVATED' });
  });
});

describe('BaseModel reports', () => {
  it('heartbeat and queryBaseline carry the metadata', () => {
    const model = new BaseModel(config({ name: 'shop', version: '2.0', clusterName: 'east' }));
    expect(model.heartbeat()).toEqual({
      kind: 'heart',
      data: {
        baseMetadata: { clusterName: 'east', identity: '10.244.0.12', name: 'shop', version: '2.0' },
        localHostName: 'base-1',
        localIP: '10.244.0.12',
        port: 0,
        state: 'activated',
      },
    });
    expect(model.queryBaseline()).toEqual({
      kind: 'queryBaseline',
      data: { clusterName: 'east', identity: '10.244.0.12', name: 'shop', version: '2.0' },
    });
  });

  it('health lists the master biz, every biz and the configured figures', () => {
    const model = new BaseModel(config());
    model.handle(install(biz('biz1', '0.0.1')), T0);
    expect(only(model.handle(HEALTH, T0), 'health')).toEqual({
      code: 'SUCCESS',
      data: {
        healthData: {
          bizListInfo: [
            { bizName: 'biz1', bizState: 'ACTIVATED', bizVersion: '0.0.1', webContextPath: 'biz1' },
          ],
          cpu: DEFAULT_BEHAVIOUR.health.cpu,
          jvm: DEFAULT_BEHAVIOUR.health.jvm,
          masterBizInfo: { bizName: 'base', bizState: 'ACTIVATED', bizVersion: '1.0.0', webContextPath: '/' },
          pluginListInfo: [],
        },
      },
    });
  });

  it('writes a null latestStateRecord when the base keeps no records', () => {
    const model = new BaseModel(config({ recordStateChanges: false }));
    model.handle(install(biz('biz1', '1')), T0);
    expect(only(model.handle(QUERY_ALL, T0), 'simpleBiz')).toEqual([
      { latestStateRecord: null, name: 'biz1', state: 'activated', version: '1' },
    ]);
  });
});

describe('BaseModel termination', () => {
  it('drops every biz and voids pending work', () => {
    const model = new BaseModel(
      config({ installLatencyMs: 100, staticModules: [{ bizName: 's', bizVersion: '1' }] }),
    );
    model.boot(T0);
    const token = model.handle(install(biz('biz1', '1')), T0).schedule[0]?.token;
    if (token === undefined) throw new Error('no scheduled work');
    expect(model.terminate(T0 + 50)).toEqual([
      { at: T0 + 50, bizName: 's', bizVersion: '1', from: 'ACTIVATED', to: undefined },
      { at: T0 + 50, bizName: 'biz1', bizVersion: '1', from: 'RESOLVED', to: undefined },
    ]);
    expect(model.complete(token, T0 + 100)).toEqual({ publish: [], changes: [], schedule: [] });
    expect(model.handle(QUERY_ALL, T0 + 100).publish).toEqual([]);
  });
});
