import { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.ts';
import { systemClock, type Clock } from './clock.ts';
import type { KmcConfig } from '../config/config-schema.ts';
import { ConfigError, describeError } from './errors.ts';
import { createHooks, type Hooks } from './hooks.ts';
import { EventRecorder } from './kube/event-recorder.ts';
import { LeaderElector } from './kube/leader-election.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { KmcPlugin } from './plugin.ts';
import { MqttTunnel } from './tunnel/mqtt-tunnel.ts';
import type { Tunnel, TunnelEvent } from './tunnel/tunnel.ts';
import { KMC_VERSION } from './version.ts';
import { BaseRegistry } from './vnode/base-registry.ts';
import { VNodeController } from './vnode/vnode-controller.ts';
import { ModuleController } from './module/module-controller.ts';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { ClusterCaches } from './kube/cluster-caches.ts';
import { isNotFound } from './kube/kube-errors.ts';
import { ROLLOUT_CRD } from './rollout/module-rollout.ts';
import { RolloutEngine } from './rollout/rollout-engine.ts';
import type { ConfigStrategy } from './rollout/strategy.ts';
import { implicitStrategyPlugins } from '../plugins/index.ts';

export interface OrchestratorOptions {
  readonly config: KmcConfig;
  readonly kc?: KubeConfig;
  readonly plugins?: readonly KmcPlugin[];
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** This replica's identity (leader Lease holder, MQTT client id); default: hostname + random suffix. */
  readonly identity?: string;
  /** Called when leadership is lost: the process must stop acting (the CLI exits, as client-go does). */
  readonly onLeadershipLost?: (reason: string) => void;
}

/**
 * The long-lived owner of everything (webpack's Compiler): hooks, plugins, the tunnel, the controllers and
 * leader election. Start order: plugins apply → validate → initialize → broker / tunnel (every replica hears the
 * bases) → leader election → the leader runs the controllers.
 */
export class Orchestrator {
  readonly hooks: Hooks = createHooks();
  readonly config: KmcConfig;
  readonly kc: KubeConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly identity: string;
  readonly registry: BaseRegistry;
  readonly events: EventRecorder;
  readonly plugins: readonly KmcPlugin[];
  #tunnel: Tunnel | undefined;
  #broker: EmbeddedBroker | undefined;
  #vnodes: VNodeController | undefined;
  #modules: ModuleController | undefined;
  #caches: ClusterCaches | undefined;
  #rollouts: RolloutEngine | undefined;
  #elector: LeaderElector | undefined;
  #leading = false;
  #started = false;
  #rolloutsEnabled = false;
  readonly #onLeadershipLost: ((reason: string) => void) | undefined;

  constructor(options: OrchestratorOptions) {
    this.config = options.config;
    this.kc = options.kc ?? loadDefaultKubeConfig();
    this.logger = options.logger ?? createLogger({ level: options.config.log.level });
    this.metrics = createMetrics();
    this.clock = options.clock ?? systemClock;
    this.identity = options.identity ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
    this.registry = new BaseRegistry({
      silenceMs: this.config.bases.silenceSeconds * 1000,
      brokerLossGraceMs: this.config.mqtt.lossGraceSeconds * 1000,
    });
    this.events = new EventRecorder(this.kc, this.logger, this.metrics);
    // Strategy plugins an annotation can switch on are applied even when the config leaves them out.
    this.plugins = [...(options.plugins ?? []), ...implicitStrategyPlugins(options.plugins ?? [])];
    this.#onLeadershipLost = options.onLeadershipLost;
    const names = new Set<string>();
    for (const plugin of this.plugins) {
      if (names.has(plugin.name)) throw new Error(`plugin "${plugin.name}" is listed twice`);
      names.add(plugin.name);
      plugin.apply(this);
    }
  }

  /** A logger for a plugin or component, tagged with its name. */
  getLogger(name: string): Logger {
    return this.logger.child({ plugin: name });
  }

  get tunnel(): Tunnel {
    if (!this.#tunnel) throw new Error('the orchestrator has not started');
    return this.#tunnel;
  }

  /** The shared caches of pods, workloads and ModuleRollouts (for plugins; after start). */
  get caches(): ClusterCaches {
    return this.#part(this.#caches);
  }

  /** kmc's VNodes and their changes (for plugins; after start). */
  get vnodes(): VNodeController {
    return this.#part(this.#vnodes);
  }

  /** What the bases run and which of them serve a workload (for plugins; after start). */
  get modules(): ModuleController {
    return this.#part(this.#modules);
  }

  /** The rollout engine: the rollout of a pod, the pods of a Deployment (for plugins; after start). */
  get rollouts(): RolloutEngine {
    return this.#part(this.#rollouts);
  }

  #part<T>(part: T | undefined): T {
    if (!part) throw new Error('the orchestrator has not started');
    return part;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The MQTT URL in use (the embedded broker's when no URL is configured). */
  get brokerUrl(): string | undefined {
    return this.config.mqtt.url ?? this.#broker?.url;
  }

  get ready(): boolean {
    return this.#started && (this.#tunnel?.connected ?? false);
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    this.hooks.validate.call();
    await this.hooks.initialize.promise();
    let url = config.mqtt.url;
    if (!url) {
      this.#broker = await startEmbeddedBroker({
        host: config.mqtt.embedded.host,
        port: config.mqtt.embedded.port,
      });
      url = this.#broker.url;
      logger.info({ url }, 'embedded MQTT broker started (no mqtt.url configured)');
    }
    this.hooks.baseOnline.tap('kmc', (base) => {
      this.#modules?.onBaseOnline(base);
    });
    const password = config.mqtt.password ?? (await readPasswordFile(config.mqtt.passwordFile));
    const tunnel = new MqttTunnel({
      url,
      env: config.env,
      username: config.mqtt.username,
      password,
      tls: config.mqtt.tls,
      clientIdPrefix: config.mqtt.clientIdPrefix,
      identity: this.identity,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
      maxMessageAgeMs: config.mqtt.maxMessageAgeSeconds * 1000,
      keepaliveSeconds: config.mqtt.keepaliveSeconds,
      logger: logger.child({ component: 'tunnel' }),
      metrics: this.metrics,
      clock: this.clock,
      listener: (event) => {
        this.#onTunnelEvent(event);
      },
      onConnectionChange: (connected) => {
        this.registry.brokerConnectionChanged(connected, this.clock.now());
      },
    });
    this.#tunnel = tunnel;
    this.#vnodes = new VNodeController({
      kc: this.kc,
      settings: {
        env: config.env,
        stack: config.bases.stack,
        zone: config.bases.zone,
        capacity: config.bases.capacity,
        maxModulesPerBase: config.scheduler?.maxModulesPerBase,
        silenceMs: config.bases.silenceSeconds * 1000,
        brokerLossGraceMs: config.mqtt.lossGraceSeconds * 1000,
        deleteAfterMs: config.bases.deleteAfterSeconds * 1000,
        leaseRenewMs: config.bases.leaseRenewSeconds * 1000,
        statusRefreshMs: config.bases.statusRefreshSeconds * 1000,
        healthPollMs: config.bases.healthPollSeconds * 1000,
        bizPollMs: config.bases.bizPollSeconds * 1000,
        version: `v${KMC_VERSION}-kmc`,
      },
      registry: this.registry,
      tunnel,
      hooks: this.hooks,
      events: this.events,
      logger,
      metrics: this.metrics,
      clock: this.clock,
    });
    const vnodes = this.#vnodes;
    const caches = new ClusterCaches(this.kc, config.watch.namespaces, logger);
    this.#caches = caches;
    this.#modules = new ModuleController({
      kc: this.kc,
      caches,
      deploymentSelector: config.watch.deploymentSelector,
      registry: this.registry,
      liveness: {
        silenceMs: config.bases.silenceSeconds * 1000,
        brokerLossGraceMs: config.mqtt.lossGraceSeconds * 1000,
      },
      tunnel,
      hooks: this.hooks,
      events: this.events,
      logger: logger.child({ component: 'module' }),
      metrics: this.metrics,
      clock: this.clock,
      retentionMaxMs: config.retention.maxSeconds * 1000,
      nodes: () => vnodes.nodes,
      rolloutOf: (pod) => (this.#rolloutsEnabled ? this.#rollouts?.rolloutOf(pod) : undefined),
    });
    const modules = this.#modules;
    this.#rollouts = new RolloutEngine({
      kc: this.kc,
      caches,
      hooks: this.hooks,
      events: this.events,
      logger: logger.child({ component: 'rollout' }),
      metrics: this.metrics,
      clock: this.clock,
      deploymentSelector: config.watch.deploymentSelector,
      config: this.strategyConfig(),
      requeuePods: (namespace, name) => {
        modules.requeueDeployment(namespace, name);
      },
      isAdmitted: (pod) => modules.isAdmitted(pod),
    });
    const rollouts = this.#rollouts;
    // The engine's gate runs after every plugin's: a pod takes a batch slot only when nothing else holds it.
    this.hooks.holdInstall.tapPromise({ name: 'kmc-rollout', stage: 1000 }, (pod, context) =>
      this.#rolloutsEnabled ? rollouts.gate(pod, context) : Promise.resolve(undefined),
    );
    await tunnel.start();
    this.#started = true;

    const election = config.leaderElection;
    if (!election.enabled) {
      await this.#startLeading();
      return;
    }
    this.#elector = new LeaderElector({
      kc: this.kc,
      namespace: election.namespace ?? podNamespace(),
      name: election.name ?? `kmc-${config.env}`,
      identity: this.identity,
      leaseSeconds: election.leaseSeconds,
      renewDeadlineSeconds: election.renewDeadlineSeconds,
      retrySeconds: election.retrySeconds,
      logger: logger.child({ component: 'leader-election' }),
      onStartedLeading: () => this.#startLeading(),
      onStoppedLeading: (reason) => {
        this.#leading = false;
        this.metrics.leader.set({ name: 'kmc' }, 0);
        if (reason !== 'stopped') this.#onLeadershipLost?.(reason);
      },
    });
    this.#elector.start();
  }

  async stop(): Promise<void> {
    await this.#elector?.stop();
    this.#leading = false;
    await this.#rollouts?.stop();
    await this.#modules?.stop();
    await this.#caches?.stop();
    await this.#vnodes?.stop();
    await this.hooks.shutdown.promise().catch((error: unknown) => {
      this.logger.warn({ err: describeError(error) }, 'a plugin failed to shut down');
    });
    await this.#tunnel?.stop();
    await this.#broker?.close();
    this.#started = false;
  }

  async #startLeading(): Promise<void> {
    this.#leading = true;
    this.metrics.leader.set({ name: 'kmc' }, 1);
    await this.#vnodes?.startLeading();
    this.#rolloutsEnabled = await this.#rolloutCrdInstalled();
    await this.#caches?.start({ withRollouts: this.#rolloutsEnabled });
    this.#modules?.startLeading();
    if (this.#rolloutsEnabled) this.#rollouts?.startLeading();
    await this.hooks.leading.promise();
  }

  /** The strategy defaults the config sets: what the listed strategy plugins contribute, and `rollout`. */
  strategyConfig(): ConfigStrategy {
    let strategy: ConfigStrategy = {
      undo: this.config.rollout.undo,
      batchFirstInstall: this.config.rollout.batchFirstInstall,
      bizDeactivateBatching: false,
    };
    for (const plugin of this.plugins) strategy = { ...strategy, ...plugin.strategyDefaults };
    return strategy;
  }

  /** ModuleRollouts need their CRD; without it kmc runs, unbatched, and says how to install it. */
  async #rolloutCrdInstalled(): Promise<boolean> {
    try {
      await this.kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: ROLLOUT_CRD });
      return true;
    } catch (error) {
      const reason = isNotFound(error) ? 'is not installed' : `cannot be read (${describeError(error)})`;
      this.logger.error(
        `the ModuleRollout CRD ${ROLLOUT_CRD} ${reason}: rollouts are not batched and have no ModuleRollout. ` +
          'Install it with: kubectl apply -f examples/deploy/crds/modulerollouts.rollout.koupleless.io.yaml',
      );
      return false;
    }
  }

  #onTunnelEvent(event: TunnelEvent): void {
    // A base becomes known by its heartbeat; anything else from a base nobody has heard is dropped and counted.
    if (event.type !== 'heartbeat' && !this.registry.get(event.baseId)) {
      this.metrics.tunnelDropped.inc({ reason: 'unknown-base', kind: event.type });
      this.logger.debug({ baseId: event.baseId, type: event.type }, 'message from an unknown base dropped');
      return;
    }
    this.#vnodes?.onTunnelEvent(event);
    this.#modules?.onTunnelEvent(event);
  }
}

function loadDefaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

async function readPasswordFile(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    // In a cluster the file is a mounted Secret: name the setting, the file and why it cannot be read.
    throw new ConfigError(`mqtt.passwordFile: cannot read ${path}`, { cause: error });
  }
}

/** The namespace this replica runs in: POD_NAMESPACE, else the service account's, else default. */
function podNamespace(): string {
  if (process.env['POD_NAMESPACE']) return process.env['POD_NAMESPACE'];
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return 'default';
  }
}
