/**
 * A simulated Koupleless base on a real MQTT broker: the thin I/O layer around {@link BaseModel}. It speaks
 * arklet's MQTT tunnel (koupleless-protocol.md §1, runtime ≥ 1.4.1 / 2.1.10): client id
 * `<prefix>@@@<identity>`, QoS 1 subscriptions to its command topics, QoS 1 non-retained publishes, one
 * queryBaseline on the first connect of a process and a heartbeat every interval (the first one at once).
 *
 * One instance is one machine across process restarts; its {@link Timeline} spans all of them.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { encodeBaseMessage } from '../tunnel/protocol/encode-message.ts';
import { parseCommand } from '../tunnel/protocol/parse-command.ts';
import {
  COMMAND_KINDS,
  baseIdProblem,
  baseSubscriptions,
  buildTopic,
  parseTopic,
  type CommandKind,
  type TopicKind,
} from '../tunnel/protocol/topics.ts';
import { BaseModel, type OutboundMessage, type Scheduled, type Step } from './base-model.ts';
import type { SimBiz } from './biz-inventory.ts';
import { DEFAULT_BEHAVIOUR, type BaseBehaviour, type BaseIdentity } from './sim-config.ts';
import { Timeline, type LifecycleEvent } from './timeline.ts';

export interface SimulatedBaseOptions extends Partial<BaseBehaviour> {
  readonly brokerUrl: string;
  /** baseID: one topic level (no `/`, `+`, `#`). */
  readonly identity: string;
  /** Default 127.0.0.1. */
  readonly localIP?: string;
  /** Default: the identity. */
  readonly hostname?: string;
  /** Topic env; lower-cased as arklet does. Default `dev`. */
  readonly env?: string;
  /** `koupleless.arklet.mqtt.client.prefix`. Default `koupleless`. */
  readonly clientIdPrefix?: string;
  /** Default 10 000 ms, arklet's fixed rate. */
  readonly heartbeatIntervalMs?: number;
  /** How long start() waits for the first connection. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Extra MQTT client options: username, password, TLS material. */
  readonly mqttOptions?: IClientOptions;
  readonly logger?: Logger;
  /** Clock for timestamps and the timeline. Default Date.now. */
  readonly now?: () => number;
}

export interface NewIdentity {
  readonly identity: string;
  /** Default: unchanged. */
  readonly localIP?: string;
  /** Default: unchanged (a replacement base may keep its hostname). */
  readonly hostname?: string;
}

/** One base process: its model, its MQTT connection and its timers. */
interface BaseProcess {
  readonly model: BaseModel;
  readonly client: MqttClient;
  readonly timers: Set<NodeJS.Timeout>;
  heartbeat: NodeJS.Timeout | undefined;
  firstConnectDone: boolean;
  alive: boolean;
}

const COMMANDS: ReadonlySet<string> = new Set(COMMAND_KINDS);

function isCommandKind(kind: TopicKind): kind is CommandKind {
  return COMMANDS.has(kind);
}

export class SimulatedBase {
  readonly timeline = new Timeline();
  private readonly options: SimulatedBaseOptions;
  private readonly behaviour: BaseBehaviour;
  private readonly now: () => number;
  private readonly rootLogger: Logger;
  private baseIdentity: BaseIdentity;
  private proc: BaseProcess | undefined;
  private heartbeatPaused = false;

  constructor(options: SimulatedBaseOptions) {
    assertValidIdentity(options.identity);
    this.options = options;
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...withoutAdapterOptions(options) };
    this.now = options.now ?? Date.now;
    this.rootLogger = options.logger ?? pino({ level: 'silent' });
    this.baseIdentity = {
      identity: options.identity,
      localIP: options.localIP ?? '127.0.0.1',
      hostname: options.hostname ?? options.identity,
    };
  }

  get identity(): string {
    return this.baseIdentity.identity;
  }

  get localIP(): string {
    return this.baseIdentity.localIP;
  }

  get hostname(): string {
    return this.baseIdentity.hostname;
  }

  /** The topic env, lower-cased; `dev` when none was given, as arklet does with an empty env. */
  get env(): string {
    const env = this.options.env?.toLowerCase() ?? '';
    return env === '' ? 'dev' : env;
  }

  get clientId(): string {
    return `${this.options.clientIdPrefix ?? 'koupleless'}@@@${this.identity}`;
  }

  /** A base process is running (between start and crash / stop), connected or not. */
  get running(): boolean {
    return this.proc !== undefined;
  }

  get connected(): boolean {
    return this.proc?.client.connected ?? false;
  }

  /** The bizs of the running process, in registration order; empty when none runs. */
  modules(): readonly SimBiz[] {
    return this.proc?.model.bizs() ?? [];
  }

  topic(kind: TopicKind): string {
    return buildTopic(this.env, this.identity, kind);
  }

  /**
   * Starts a base process: statically merged modules come up, the client connects and subscribes, then the
   * first-connect queryBaseline and the first heartbeat go out. Resolves once they are handed to the client.
   */
  async start(): Promise<void> {
    if (this.proc !== undefined) throw new Error(`simulated base ${this.identity} is already running`);
    const model = new BaseModel({ ...this.baseIdentity, ...this.behaviour });
    const log = this.logger();
    const client = connect(this.options.brokerUrl, {
      ...this.options.mqttOptions,
      clientId: this.clientId,
      clean: true,
      keepalive: 60,
      protocolVersion: 4,
      reconnectPeriod: 1_000,
      // arklet subscribes again itself on every connect; letting mqtt.js do it too would double them
      resubscribe: false,
    });
    const proc: BaseProcess = {
      model,
      client,
      timers: new Set(),
      heartbeat: undefined,
      firstConnectDone: false,
      alive: true,
    };
    this.proc = proc;
    this.lifecycle('started');
    this.timeline.recordChanges(model.boot(this.now()));

    const firstConnect = new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        reject(
          new Error(
            `simulated base ${this.identity} could not connect to ${this.options.brokerUrl} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      client.on('connect', () => {
        this.onConnect(proc).then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: unknown) => {
            // after the first connect nobody awaits this any more: the log is where a failure shows
            log.warn({ err: error }, 'subscribing after connect failed');
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
    });
    client.on('message', (topic, payload) => {
      this.onMessage(proc, topic, payload);
    });
    client.on('close', () => {
      if (proc.alive && proc.firstConnectDone) this.lifecycle('connection-lost');
    });
    client.on('error', (error) => {
      log.warn({ err: error }, 'mqtt client error');
    });

    try {
      await firstConnect;
    } catch (error) {
      await this.end(proc, 'crashed', true);
      throw error;
    }
  }

  /** The process dies without a word: the socket is dropped, no DISCONNECT, nothing more is published. */
  async crash(): Promise<void> {
    if (this.proc !== undefined) await this.end(this.proc, 'crashed', true);
  }

  /** Clean shutdown: timers stop and the client disconnects. arklet sends nothing special on the way out. */
  async stop(): Promise<void> {
    if (this.proc !== undefined) await this.end(this.proc, 'stopped', false);
  }

  /** A fresh process with the same identity: installed modules are lost, statically merged ones come back. */
  async restart(): Promise<void> {
    await this.crash();
    await this.start();
  }

  /** A replacement process that reports a new identity (bases get a new identity per start). */
  async restartWithNewIdentity(next: NewIdentity): Promise<void> {
    assertValidIdentity(next.identity);
    await this.crash();
    this.baseIdentity = {
      identity: next.identity,
      localIP: next.localIP ?? this.baseIdentity.localIP,
      hostname: next.hostname ?? this.baseIdentity.hostname,
    };
    await this.start();
  }

  /** Heartbeats stop; commands are still answered. Holds across restarts until resumed. */
  pauseHeartbeat(): void {
    if (this.heartbeatPaused) return;
    this.heartbeatPaused = true;
    if (this.proc !== undefined) stopHeartbeat(this.proc);
    this.lifecycle('heartbeat-paused');
  }

  /** Heartbeats start again at once, then every interval. */
  resumeHeartbeat(): void {
    if (!this.heartbeatPaused) return;
    this.heartbeatPaused = false;
    this.lifecycle('heartbeat-resumed');
    if (this.proc?.firstConnectDone === true) this.startHeartbeat(this.proc);
  }

  private logger(): Logger {
    return this.rootLogger.child({ component: 'simulated-base', base: this.identity });
  }

  private lifecycle(event: LifecycleEvent): void {
    this.timeline.record({ type: 'lifecycle', at: this.now(), event, identity: this.identity });
  }

  /** arklet's onConnectCompleted: subscribe on every connect; queryBaseline and heartbeats on the first only. */
  private async onConnect(proc: BaseProcess): Promise<void> {
    const subscriptions = Object.fromEntries(
      baseSubscriptions(this.env, this.identity).map((topic) => [topic, { qos: 1 as const }]),
    );
    await proc.client.subscribeAsync(subscriptions);
    // the process may have crashed while the subscription was in flight
    if (!proc.alive) return;
    this.lifecycle('connected');
    if (proc.firstConnectDone) return;
    proc.firstConnectDone = true;
    this.publish(proc, proc.model.queryBaseline());
    if (!this.heartbeatPaused) this.startHeartbeat(proc);
  }

  private onMessage(proc: BaseProcess, topic: string, payload: Buffer): void {
    if (!proc.alive) return;
    const at = this.now();
    const parsedTopic = parseTopic(topic);
    const kind = parsedTopic.ok && isCommandKind(parsedTopic.kind) ? parsedTopic.kind : undefined;
    this.timeline.record({ type: 'received', at, topic, kind, payload: payload.toString('utf8') });
    if (kind === undefined || !parsedTopic.ok || parsedTopic.baseId !== this.identity) {
      // a real arklet throws "unsupported command" and publishes nothing
      this.logger().warn({ topic }, 'unsupported command ignored');
      return;
    }
    const parsed = parseCommand(kind, payload);
    if (!parsed.ok) {
      this.logger().warn(
        { topic, reason: parsed.reason, detail: parsed.detail },
        'unreadable command ignored',
      );
      return;
    }
    this.apply(proc, proc.model.handle(parsed.command, at));
  }

  private apply(proc: BaseProcess, step: Step): void {
    this.timeline.recordChanges(step.changes);
    for (const message of step.publish) this.publish(proc, message);
    for (const scheduled of step.schedule) this.schedule(proc, scheduled);
  }

  private schedule(proc: BaseProcess, { afterMs, token }: Scheduled): void {
    const timer = setTimeout(() => {
      proc.timers.delete(timer);
      if (proc.alive) this.apply(proc, proc.model.complete(token, this.now()));
    }, afterMs);
    proc.timers.add(timer);
  }

  private publish(proc: BaseProcess, message: OutboundMessage): void {
    if (!proc.alive) return;
    if (!proc.client.connected) {
      // paho (arklet's client) refuses to publish while disconnected: the message is lost, not queued
      this.logger().warn({ kind: message.kind }, 'not connected: message dropped');
      return;
    }
    const at = this.now();
    const topic = this.topic(message.kind);
    const payload = encodeBaseMessage(message.kind, message.data, at);
    this.timeline.record({ type: 'published', at, topic, kind: message.kind, payload });
    proc.client.publishAsync(topic, payload, { qos: 1, retain: false }).catch((error: unknown) => {
      this.logger().warn({ err: error, kind: message.kind }, 'publish failed');
    });
  }

  private startHeartbeat(proc: BaseProcess): void {
    stopHeartbeat(proc);
    const beat = (): void => {
      this.publish(proc, proc.model.heartbeat());
    };
    beat();
    proc.heartbeat = setInterval(beat, this.options.heartbeatIntervalMs ?? 10_000);
  }

  private async end(proc: BaseProcess, event: 'crashed' | 'stopped', force: boolean): Promise<void> {
    if (!proc.alive) return;
    proc.alive = false;
    stopHeartbeat(proc);
    for (const timer of proc.timers) clearTimeout(timer);
    proc.timers.clear();
    this.timeline.recordChanges(proc.model.terminate(this.now()));
    if (this.proc === proc) this.proc = undefined;
    proc.client.removeAllListeners('message');
    await proc.client.endAsync(force);
    this.lifecycle(event);
  }
}

function stopHeartbeat(proc: BaseProcess): void {
  if (proc.heartbeat !== undefined) clearInterval(proc.heartbeat);
  proc.heartbeat = undefined;
}

function assertValidIdentity(identity: string): void {
  const problem = baseIdProblem(identity);
  if (problem !== undefined)
    throw new RangeError(`invalid base identity ${JSON.stringify(identity)}: ${problem}`);
}

/** The behaviour fields of the options (the rest configure the adapter), without undefined values. */
function withoutAdapterOptions(options: SimulatedBaseOptions): Partial<BaseBehaviour> {
  const behaviour: Partial<Record<keyof BaseBehaviour, unknown>> = {};
  for (const key of Object.keys(DEFAULT_BEHAVIOUR) as (keyof BaseBehaviour)[]) {
    if (options[key] !== undefined) behaviour[key] = options[key];
  }
  return behaviour as Partial<BaseBehaviour>;
}
