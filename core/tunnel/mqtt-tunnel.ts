import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../clock.ts';
import { ConfigError, TunnelError } from '../errors.ts';
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
        // A refused TLS handshake or refused credentials will not get better by retrying: fail start with the
        // reason (in a cluster, the pod restarts with a back-off and the reason in its log).
        const reason = refusalReason(error, this.#options);
        if (reason !== undefined) {
          cleanup();
          client.end(true);
          reject(new TunnelError(`cannot connect to MQTT broker ${redactUrl(url)}: ${reason}`));
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
      if (tls.ca) options.ca = await readPem('mqtt.tls.ca', tls.ca);
      if (tls.cert) options.cert = await readPem('mqtt.tls.cert', tls.cert);
      if (tls.key) options.key = await readPem('mqtt.tls.key', tls.key);
      if ((tls.cert === undefined) !== (tls.key === undefined)) {
        throw new ConfigError('mqtt.tls: a client certificate needs both cert and key');
      }
    }
    // Always verify the broker (upstream skipped it): against tls.ca when given, else Node's CA bundle.
    options.rejectUnauthorized = true;
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

async function readPem(field: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(`${field}: cannot read ${path}`, { cause: error });
  }
}

/** The broker certificate is not signed by a CA kmc trusts. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);
/** The broker certificate is trusted but not valid for this connection. */
const INVALID_CERT_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_REVOKED',
  'INVALID_PURPOSE',
]);
/** TLS alerts a broker sends when it does not accept the client certificate (or its absence). */
const CLIENT_CERT_ALERTS = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);
/** CONNACK return codes (MQTT 3.1.1) that say the credentials were refused. */
const CREDENTIAL_REFUSALS = new Set([4, 5]);

/** Node's advice for its own CA store; kmc's is mqtt.tls.ca. */
const NODE_CA_HINT = /; if the root CA is installed locally, try running Node\.js with --use-system-ca/;

/**
 * Why connecting cannot succeed by retrying, in words naming the setting to fix; undefined for failures that may
 * pass (the broker is down, restarting, unreachable).
 */
export function refusalReason(
  error: Error,
  options: Pick<MqttTunnelOptions, 'tls' | 'username'>,
): string | undefined {
  const code = (error as { code?: unknown }).code;
  const detail = `${error.message.replace(NODE_CA_HINT, '')}${typeof code === 'string' ? ` (${code})` : ''}`;
  const ca = options.tls?.ca;
  if (typeof code === 'string' && UNTRUSTED_CODES.has(code)) {
    const trusted = ca
      ? `the CA of mqtt.tls.ca (${ca})`
      : "Node's bundled CAs (set mqtt.tls.ca for a private CA)";
    return `TLS verification failed: ${detail}: the broker certificate is not signed by ${trusted}`;
  }
  if (typeof code === 'string' && INVALID_CERT_CODES.has(code)) {
    return `TLS verification failed: ${detail}`;
  }
  if (typeof code === 'string' && CLIENT_CERT_ALERTS.has(code)) {
    const mine = options.tls?.cert
      ? `did not accept the client certificate of mqtt.tls.cert (${options.tls.cert})`
      : 'requires a client certificate (set mqtt.tls.cert and mqtt.tls.key)';
    return `the broker refused the TLS handshake: it ${mine}: ${detail}`;
  }
  if (typeof code === 'number' && CREDENTIAL_REFUSALS.has(code)) {
    const who = options.username === undefined ? 'without a username' : `of user "${options.username}"`;
    return `the broker refused the credentials ${who} (mqtt.username, mqtt.passwordFile): ${error.message}`;
  }
  return undefined;
}
