import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../clock.ts';
import { TunnelError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { toTunnelEvent } from './base-events.ts';
import { encodeCommand } from './protocol/encode-message.ts';
import type { BizModel } from './protocol/messages.ts';
import { parseBaseMessage } from './protocol/parse-base-message.ts';
import {
  ALL_ENVS_HEARTBEAT_SUBSCRIPTION,
  BASE_MESSAGE_KINDS,
  buildTopic,
  controllerSubscriptions,
  parseTopic,
  type BaseMessageKind,
  type CommandKind,
} from './protocol/topics.ts';
import type { Tunnel, TunnelListener } from './tunnel.ts';

export interface MqttTunnelOptions {
  readonly url: string;
  readonly env: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** PEM files. With `ca`, the broker certificate is verified against it (never skipped, unlike upstream). */
  readonly tls?:
    | {
        readonly ca?: string | undefined;
        readonly cert?: string | undefined;
        readonly key?: string | undefined;
      }
    | undefined;
  readonly clientIdPrefix: string;
  /** Unique per replica: two clients with one id kick each other off the broker. */
  readonly identity: string;
  readonly maxPayloadBytes: number;
  readonly maxMessageAgeMs: number;
  readonly keepaliveSeconds: number;
  /** How long to listen for heartbeats under other envs, to hint at an env mismatch. */
  readonly envProbeMs?: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly listener: TunnelListener;
  readonly onConnectionChange?: (connected: boolean) => void;
}

const BASE_KINDS: ReadonlySet<string> = new Set(BASE_MESSAGE_KINDS);

/**
 * The arklet MQTT protocol, controller side (koupleless-protocol.md §1), without upstream's bugs (§7):
 * commands are not retained; TLS verifies the broker; subscriptions are made again on every connect (with a
 * clean session a reconnect loses them); a bad message is dropped with a counter, never a crash.
 */
export class MqttTunnel implements Tunnel {
  readonly #options: MqttTunnelOptions;
  #client: MqttClient | undefined;
  #probingEnvs = false;
  readonly #foreignEnvsSeen = new Set<string>();
  #envProbeTimer: NodeJS.Timeout | undefined;

  constructor(options: MqttTunnelOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { url, logger } = this.#options;
    const client = connect(url, await this.#clientOptions());
    this.#client = client;
    let everConnected = false;
    let lastError = '';
    client.on('connect', () => {
      everConnected = true;
      this.#options.metrics.tunnelConnected.set(1);
      logger.info({ broker: redactUrl(url) }, 'connected to the MQTT broker');
      this.#options.onConnectionChange?.(true);
      void this.#subscribe(client);
    });
    client.on('close', () => {
      if (!everConnected) return;
      this.#options.metrics.tunnelConnected.set(0);
      this.#options.onConnectionChange?.(false);
    });
    client.on('offline', () => {
      logger.warn({ broker: redactUrl(url) }, 'MQTT broker connection lost; reconnecting');
    });
    client.on('error', (error) => {
      const message = describeBrokerError(error);
      if (message !== lastError) logger.error({ broker: redactUrl(url), err: message }, 'MQTT broker error');
      lastError = message;
    });
    client.on('message', (topic, payload) => {
      this.#onMessage(topic, payload);
    });
    await new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        // A refused TLS handshake will not get better by retrying: fail start with the reason.
        if (isTlsVerificationError(error)) {
          cleanup();
          client.end(true);
          reject(
            new TunnelError(
              `cannot connect to MQTT broker ${redactUrl(url)}: TLS verification failed: ${describeBrokerError(error)}`,
              { cause: error },
            ),
          );
        }
      };
      const cleanup = () => {
        client.off('connect', onConnect);
        client.off('error', onError);
      };
      client.on('connect', onConnect);
      client.on('error', onError);
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.#envProbeTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.endAsync();
    this.#options.metrics.tunnelConnected.set(0);
  }

  installBiz(baseId: string, biz: BizModel): Promise<void> {
    return this.#publish(baseId, 'installBiz', encodeCommand('installBiz', biz));
  }

  uninstallBiz(baseId: string, biz: BizModel): Promise<void> {
    return this.#publish(baseId, 'uninstallBiz', encodeCommand('uninstallBiz', biz));
  }

  queryAllBiz(baseId: string): Promise<void> {
    return this.#publish(baseId, 'queryAllBiz', '{}');
  }

  queryHealth(baseId: string): Promise<void> {
    return this.#publish(baseId, 'healthQuery', '{}');
  }

  sendBaseline(baseId: string, bizs: readonly BizModel[]): Promise<void> {
    return this.#publish(baseId, 'baseline', encodeCommand('baseline', [...bizs]));
  }

  async #publish(baseId: string, kind: CommandKind, payload: string): Promise<void> {
    const client = this.#client;
    if (!client?.connected) {
      throw new TunnelError(`cannot send ${kind} to base ${baseId}: not connected to the MQTT broker`);
    }
    // retain=false: a retained command would be replayed to a restarted base (upstream bug §7 item 1).
    await client.publishAsync(buildTopic(this.#options.env, baseId, kind), payload, {
      qos: 1,
      retain: false,
    });
    this.#options.metrics.tunnelMessages.inc({ direction: 'out', kind });
  }

  async #clientOptions(): Promise<IClientOptions> {
    const { tls, username, password, clientIdPrefix, identity, keepaliveSeconds } = this.#options;
    const options: IClientOptions = {
      clientId: `${clientIdPrefix}@@@${identity}`,
      clean: true,
      keepalive: keepaliveSeconds,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      // We subscribe ourselves on every connect.
      resubscribe: false,
      protocolVersion: 4,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
    if (tls) {
      if (tls.ca) options.ca = await readFile(tls.ca);
      if (tls.cert) options.cert = await readFile(tls.cert);
      if (tls.key) options.key = await readFile(tls.key);
      options.rejectUnauthorized = true;
    }
    return options;
  }

  async #subscribe(client: MqttClient): Promise<void> {
    const { env, logger } = this.#options;
    const topics = controllerSubscriptions(env);
    if (this.#envProbeTimer === undefined && (this.#options.envProbeMs ?? 120_000) > 0) {
      this.#probingEnvs = true;
      topics.push(ALL_ENVS_HEARTBEAT_SUBSCRIPTION);
      this.#envProbeTimer = setTimeout(() => {
        this.#probingEnvs = false;
        client.unsubscribeAsync(ALL_ENVS_HEARTBEAT_SUBSCRIPTION).catch(() => undefined);
      }, this.#options.envProbeMs ?? 120_000);
      this.#envProbeTimer.unref();
    } else if (this.#probingEnvs) {
      topics.push(ALL_ENVS_HEARTBEAT_SUBSCRIPTION);
    }
    try {
      await client.subscribeAsync(Object.fromEntries(topics.map((topic) => [topic, { qos: 1 as const }])));
      logger.debug({ topics }, 'subscribed');
    } catch (error) {
      logger.error(
        { err: describeBrokerError(error) },
        'MQTT subscribe failed; retrying on the next connect',
      );
    }
  }

  #drop(reason: string, kind: string, detail: string, topic: string): void {
    this.#options.metrics.tunnelDropped.inc({ reason, kind });
    this.#options.logger.debug({ topic, reason, detail }, 'message dropped');
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed.ok) {
      this.#drop('invalid-topic', 'unknown', parsed.detail, topic);
      return;
    }
    if (parsed.env !== this.#options.env) {
      this.#hintForeignEnv(parsed.env, parsed.baseId);
      return;
    }
    if (!BASE_KINDS.has(parsed.kind)) {
      // Our own commands echo back only if someone else publishes them; not ours to handle.
      this.#drop('not-a-base-message', parsed.kind, 'command topic', topic);
      return;
    }
    const kind = parsed.kind as BaseMessageKind;
    const result = parseBaseMessage(kind, payload, this.#options.clock.now(), {
      maxBytes: this.#options.maxPayloadBytes,
      maxAgeMs: this.#options.maxMessageAgeMs,
    });
    if (!result.ok) {
      this.#drop(result.reason, kind, result.detail, topic);
      return;
    }
    this.#options.metrics.tunnelMessages.inc({ direction: 'in', kind });
    const event = toTunnelEvent(parsed.baseId, result.message);
    if (!event) {
      this.#drop('ignored', kind, 'not a success or not a known command', topic);
      return;
    }
    try {
      this.#options.listener(event);
    } catch (error) {
      this.#options.logger.error({ err: error, topic }, 'tunnel listener threw');
    }
    // After an install, ask for the whole list at once: a deactivation of the old version is then seen in
    // milliseconds instead of at the next poll (ARCHITECTURE §2.4).
    if (event.type === 'operation' && event.command === 'installBiz') {
      this.queryAllBiz(parsed.baseId).catch(() => undefined);
    }
  }

  #hintForeignEnv(env: string, baseId: string): void {
    if (this.#foreignEnvsSeen.has(env)) return;
    this.#foreignEnvsSeen.add(env);
    this.#options.logger.warn(
      { env, configuredEnv: this.#options.env, baseId },
      `heartbeats arrive under koupleless_${env}/, but this controller serves koupleless_${this.#options.env}/: ` +
        `set env: ${env} in the kmc config, or give the bases the runtime env "${this.#options.env}" ` +
        `(stock bases use "default")`,
    );
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function describeBrokerError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

function isTlsVerificationError(error: Error): boolean {
  return TLS_VERIFY_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}
