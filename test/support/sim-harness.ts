/**
 * Simulated bases on a real broker with a controller-side probe: the probe listens on the controller's
 * wildcard subscriptions, sends commands and reads replies the way the controller parses them.
 */
import { SimulatedBase, type SimulatedBaseOptions } from '../../core/sim/simulated-base.ts';
import type {
  BaseMessage,
  BizModel,
  BizOperationResponse,
  SimpleBizInfo,
} from '../../core/tunnel/protocol/messages.ts';
import { parseBaseMessage } from '../../core/tunnel/protocol/parse-base-message.ts';
import {
  BASE_MESSAGE_KINDS,
  controllerSubscriptions,
  parseTopic,
  type BaseMessageKind,
} from '../../core/tunnel/protocol/topics.ts';
import type { BrokerKind, TestBroker } from './brokers.ts';
import { MqttProbe, type CapturedMessage } from './mqtt-probe.ts';
import { uniqueId } from './unique-id.ts';

export const ENV = 'dev';

const BASE_KINDS: ReadonlySet<string> = new Set(BASE_MESSAGE_KINDS);

/** The message as the controller parses it, if it is a valid base message from `baseId`. */
export function fromBase(message: CapturedMessage, baseId: string): BaseMessage | undefined {
  const topic = parseTopic(message.topic);
  if (!topic.ok || topic.baseId !== baseId || topic.env !== ENV || !BASE_KINDS.has(topic.kind))
    return undefined;
  const parsed = parseBaseMessage(topic.kind as BaseMessageKind, message.payload, Date.now());
  return parsed.ok ? parsed.message : undefined;
}

export type BaseOptions = Omit<SimulatedBaseOptions, 'brokerUrl' | 'identity'> & {
  readonly identity?: string;
};

export class SimHarness {
  readonly broker: TestBroker;
  readonly controller: MqttProbe;
  private readonly bases: SimulatedBase[] = [];

  private constructor(broker: TestBroker, controller: MqttProbe) {
    this.broker = broker;
    this.controller = controller;
  }

  static async start(kind: BrokerKind): Promise<SimHarness> {
    const broker = await kind.start();
    const controller = await MqttProbe.connect(broker.url);
    await controller.subscribe(...controllerSubscriptions(ENV));
    return new SimHarness(broker, controller);
  }

  /** A base (not started) that is stopped when the harness closes. */
  base(options: BaseOptions = {}): SimulatedBase {
    const base = new SimulatedBase({ identity: uniqueId('sim'), ...options, brokerUrl: this.broker.url });
    this.bases.push(base);
    return base;
  }

  async startedBase(options: BaseOptions = {}): Promise<SimulatedBase> {
    const base = this.base(options);
    await base.start();
    return base;
  }

  /** The next message of `kind` from `baseId` received at or after the `since` mark. */
  async next<K extends BaseMessageKind>(
    baseId: string,
    kind: K,
    since: number,
    timeoutMs = 10_000,
  ): Promise<Extract<BaseMessage, { kind: K }>> {
    const message = await this.controller.waitForMessage(
      (candidate) => fromBase(candidate, baseId)?.kind === kind,
      {
        description: `${kind} from ${baseId}`,
        since,
        timeoutMs,
      },
    );
    return fromBase(message, baseId) as Extract<BaseMessage, { kind: K }>;
  }

  /** Every valid message of `kind` from `baseId` received at or after `since`. */
  all<K extends BaseMessageKind>(baseId: string, kind: K, since = 0): Extract<BaseMessage, { kind: K }>[] {
    return this.controller
      .messages(() => true, since)
      .map((message) => fromBase(message, baseId))
      .filter((message): message is Extract<BaseMessage, { kind: K }> => message?.kind === kind);
  }

  async queryAllBiz(baseId: string): Promise<readonly SimpleBizInfo[]> {
    const since = this.controller.mark();
    await this.controller.command(ENV, baseId, 'queryAllBiz', {});
    return (await this.next(baseId, 'simpleBiz', since)).data;
  }

  async install(baseId: string, biz: BizModel, timeoutMs?: number): Promise<BizOperationResponse> {
    const since = this.controller.mark();
    await this.controller.command(ENV, baseId, 'installBiz', biz);
    return (await this.next(baseId, 'bizOperation', since, timeoutMs)).data;
  }

  async uninstall(baseId: string, biz: BizModel): Promise<BizOperationResponse> {
    const since = this.controller.mark();
    await this.controller.command(ENV, baseId, 'uninstallBiz', biz);
    return (await this.next(baseId, 'bizOperation', since)).data;
  }

  /** Waits for `count` heartbeats of `baseId` after now: proof that time passed at the heartbeat rate. */
  async heartbeats(baseId: string, count: number): Promise<void> {
    for (let beat = 0; beat < count; beat++) await this.next(baseId, 'heart', this.controller.mark());
  }

  async close(): Promise<void> {
    for (const base of this.bases) await base.stop();
    await this.controller.close();
    await this.broker.close();
  }
}

export function bizModel(bizName: string, bizVersion: string): BizModel {
  return { bizName, bizVersion, bizUrl: `https://example.invalid/${bizName}-${bizVersion}-ark-biz.jar` };
}

/** `name:version → state` of a biz list, states as written (lower case). */
export function bizStates(list: readonly SimpleBizInfo[]): Record<string, string> {
  return Object.fromEntries(list.map((info) => [`${info.name}:${info.version}`, info.state]));
}
