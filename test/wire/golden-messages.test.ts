/**
 * GOLDEN: the bytes a simulated base publishes, captured by an independent subscriber on a real broker, equal
 * the files in test/fixtures/protocol-examples (what a real base sends) except for times and measured
 * figures, which are masked on both sides, so key order and null placement are really compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { SimulatedBase } from '../../core/sim/simulated-base.ts';
import type { BizModel } from '../../core/tunnel/protocol/messages.ts';
import { MqttProbe, retainedMessagesUnder, type CapturedMessage } from '../support/mqtt-probe.ts';
import { maskMeasured, readProtocolExample } from '../support/protocol-examples.ts';
import { uniqueId } from '../support/unique-id.ts';

/** The golden files use env dev and base 10.244.0.12; each test runs its own base id. */
const GOLDEN_ID = '10.244.0.12';

let broker: EmbeddedBroker;
const running: { base: SimulatedBase; probe: MqttProbe }[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker();
});

afterAll(async () => {
  for (const { base, probe } of running) {
    await base.stop();
    await probe.close();
  }
  await broker.close();
});

/** A base configured as the golden one, with a probe listening to everything under its id. */
async function goldenBase(): Promise<{ base: SimulatedBase; probe: MqttProbe; id: string }> {
  const id = uniqueId('golden');
  const probe = await MqttProbe.connect(broker.url);
  await probe.subscribe(`koupleless_dev/${id}/base/+`);
  const base = new SimulatedBase({
    brokerUrl: broker.url,
    identity: id,
    localIP: GOLDEN_ID,
    hostname: 'base-5f9c7d-x2k4p',
    name: 'base',
    version: '1.0.0',
    clusterName: 'default',
    // one heartbeat per test is enough
    heartbeatIntervalMs: 600_000,
  });
  running.push({ base, probe });
  await base.start();
  return { base, probe, id };
}

/** The golden file as the base with this id would send it, masked. */
async function expected(file: string, id: string): Promise<string> {
  const golden = await readProtocolExample(file);
  return maskMeasured(golden.replaceAll(`"identity":"${GOLDEN_ID}"`, `"identity":"${id}"`));
}

async function published(probe: MqttProbe, id: string, kind: string, since = 0): Promise<CapturedMessage> {
  const topic = `koupleless_dev/${id}/base/${kind}`;
  const message = await probe.waitForMessage((candidate) => candidate.topic === topic, {
    description: `${kind} from ${id}`,
    since,
  });
  // arklet publishes everything at QoS 1 and never retains
  expect(message.qos).toBe(1);
  expect(message.retain).toBe(false);
  return message;
}

const BIZ1: BizModel = JSON.parse(await readProtocolExample('installBiz.json')) as BizModel;

describe('golden bytes of a simulated base', () => {
  it('heart', async () => {
    const { probe, id } = await goldenBase();
    const message = await published(probe, id, 'heart');
    expect(maskMeasured(message.text)).toBe(await expected('base-heart.json', id));
  });

  it('queryBaseline', async () => {
    const { probe, id } = await goldenBase();
    const message = await published(probe, id, 'queryBaseline');
    expect(maskMeasured(message.text)).toBe(await expected('base-queryBaseline.json', id));
  });

  it('bizOperation: install success, then REPEAT_BIZ', async () => {
    const { probe, id } = await goldenBase();
    const controller = await MqttProbe.connect(broker.url);
    try {
      const beforeInstall = probe.mark();
      await controller.command('dev', id, 'installBiz', BIZ1);
      const success = await published(probe, id, 'bizOperation', beforeInstall);
      expect(maskMeasured(success.text)).toBe(await expected('base-bizOperation-install-success.json', id));

      const beforeRepeat = probe.mark();
      await controller.command('dev', id, 'installBiz', BIZ1);
      const repeat = await published(probe, id, 'bizOperation', beforeRepeat);
      expect(maskMeasured(repeat.text)).toBe(await expected('base-bizOperation-install-repeat.json', id));
    } finally {
      await controller.close();
    }
  });

  it('simpleBiz, with its nulls', async () => {
    const { probe, id } = await goldenBase();
    const controller = await MqttProbe.connect(broker.url);
    try {
      const beforeInstall = probe.mark();
      await controller.command('dev', id, 'installBiz', BIZ1);
      await published(probe, id, 'bizOperation', beforeInstall);
      const beforeQuery = probe.mark();
      await controller.command('dev', id, 'queryAllBiz', {});
      const message = await published(probe, id, 'simpleBiz', beforeQuery);
      expect(maskMeasured(message.text)).toBe(await expected('base-simpleBiz.json', id));
    } finally {
      await controller.close();
    }
  });

  it('health, figures included', async () => {
    const { probe, id } = await goldenBase();
    const controller = await MqttProbe.connect(broker.url);
    try {
      const beforeInstall = probe.mark();
      await controller.command('dev', id, 'installBiz', BIZ1);
      await published(probe, id, 'bizOperation', beforeInstall);
      const beforeQuery = probe.mark();
      await controller.command('dev', id, 'healthQuery', {});
      const message = await published(probe, id, 'health', beforeQuery);
      // the health figures are configured to the golden ones: only the timestamp is masked
      expect(message.text.replace(/"publishTimestamp":\d+/, '')).toBe(
        (await readProtocolExample('base-health.json')).replace(/"publishTimestamp":\d+/, ''),
      );
    } finally {
      await controller.close();
    }
  });

  it('batchInstallBizResponse after a baseline', async () => {
    const { probe, id } = await goldenBase();
    const controller = await MqttProbe.connect(broker.url);
    try {
      const before = probe.mark();
      await controller.command(
        'dev',
        id,
        'baseline',
        JSON.parse(await readProtocolExample('baseline.json')) as BizModel[],
      );
      const message = await published(probe, id, 'batchInstallBizResponse', before);
      expect(maskMeasured(message.text)).toBe(await expected('base-batchInstallBizResponse.json', id));
    } finally {
      await controller.close();
    }
  });

  it('leaves nothing retained on its topics', async () => {
    const { probe, id } = await goldenBase();
    await published(probe, id, 'heart');
    expect(await retainedMessagesUnder(broker.url, 'dev', id)).toEqual([]);
  });
});
