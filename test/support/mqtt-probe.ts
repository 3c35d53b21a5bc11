/**
 * An independent MQTT client for wire tests: it records every message it receives with the exact bytes,
 * QoS and retain flag, and plays the controller side (publishes commands). Subscriptions are made at QoS 2,
 * so the QoS a message arrives with is the QoS its publisher used.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { encodeCommand } from '../../core/tunnel/protocol/encode-message.ts';
import type { CommandPayload } from '../../core/tunnel/protocol/messages.ts';
import { buildTopic, type CommandKind } from '../../core/tunnel/protocol/topics.ts';
import { uniqueId } from './unique-id.ts';
import { waitFor } from './wait-for.ts';

export interface CapturedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly text: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** Local receive time. */
  readonly at: number;
}

export interface WaitForMessageOptions {
  readonly description: string;
  /** Only messages received at or after this index (see {@link MqttProbe.mark}). Default 0. */
  readonly since?: number;
  readonly timeoutMs?: number;
}

export class MqttProbe {
  private readonly client: MqttClient;
  private readonly captured: CapturedMessage[] = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      this.captured.push({
        topic,
        payload,
        text: payload.toString('utf8'),
        qos: packet.qos,
        retain: packet.retain,
        at: Date.now(),
      });
    });
  }

  static async connect(url: string, clientId: string = uniqueId('probe')): Promise<MqttProbe> {
    const client = await connectAsync(url, { clientId, clean: true, reconnectPeriod: 0, protocolVersion: 4 });
    return new MqttProbe(client);
  }

  async subscribe(...filters: string[]): Promise<void> {
    await this.client.subscribeAsync(
      Object.fromEntries(filters.map((filter) => [filter, { qos: 2 as const }])),
    );
  }

  /** The number of messages received so far: pass it as `since` to wait only for later ones. */
  mark(): number {
    return this.captured.length;
  }

  messages(predicate: (message: CapturedMessage) => boolean = () => true, since = 0): CapturedMessage[] {
    return this.captured.slice(since).filter(predicate);
  }

  onTopic(topic: string, since = 0): CapturedMessage[] {
    return this.messages((message) => message.topic === topic, since);
  }

  async waitForMessage(
    predicate: (message: CapturedMessage) => boolean,
    { description, since = 0, timeoutMs = 10_000 }: WaitForMessageOptions,
  ): Promise<CapturedMessage> {
    return waitFor(() => this.captured.slice(since).find(predicate), {
      description,
      timeoutMs,
      intervalMs: 20,
    });
  }

  async publish(
    topic: string,
    payload: string | Buffer,
    options: { qos?: 0 | 1 | 2; retain?: boolean } = {},
  ): Promise<void> {
    await this.client.publishAsync(topic, payload, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
    });
  }

  /** Publishes a command the way kmc does: encoded like the golden files, QoS 1, not retained. */
  async command<K extends CommandKind>(
    env: string,
    baseId: string,
    kind: K,
    payload: CommandPayload[K],
  ): Promise<void> {
    await this.publish(buildTopic(env, baseId, kind), encodeCommand(kind, payload));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/**
 * The retained messages a new subscriber to `koupleless_<env>/<baseId>/#` would get. A retained sentinel is
 * published under the same filter first: retained messages are delivered to a new subscription in one pass,
 * so once the sentinel has arrived every other retained message has too, with no fixed wait.
 */
export async function retainedMessagesUnder(
  url: string,
  env: string,
  baseId: string,
): Promise<CapturedMessage[]> {
  const prefix = `koupleless_${env}/${baseId}`;
  const sentinelTopic = `${prefix}/probe/retained-sentinel`;
  const sentinelPayload = uniqueId('sentinel');
  const publisher = await MqttProbe.connect(url);
  const reader = await MqttProbe.connect(url);
  try {
    await publisher.publish(sentinelTopic, sentinelPayload, { qos: 1, retain: true });
    await reader.subscribe(`${prefix}/#`);
    await reader.waitForMessage(
      (message) => message.topic === sentinelTopic && message.text === sentinelPayload,
      {
        description: `the retained sentinel on ${sentinelTopic}`,
      },
    );
    return reader.messages((message) => message.retain && message.topic !== sentinelTopic);
  } finally {
    // an empty retained payload deletes the retained sentinel
    await publisher.publish(sentinelTopic, '', { qos: 1, retain: true });
    await Promise.all([publisher.close(), reader.close()]);
  }
}
