import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { Orchestrator } from '../../core/orchestrator.ts';
import type { KmcPlugin } from '../../core/plugin.ts';
import { SimulatedBase, type SimulatedBaseOptions } from '../../core/sim/simulated-base.ts';
import { configSchema, type UserConfig } from '../../config/config-schema.ts';
import { testKubeConfig } from './kube.ts';
import { AEDES, MOSQUITTO, type TestBroker } from './brokers.ts';
import { uniqueId } from './unique-id.ts';

/**
 * The broker a harness starts: aedes by default, Debian's mosquitto when KMC_TEST_BROKER=mosquitto (the
 * e2e-mosquitto project runs the core suite that way).
 */
export const TEST_BROKER = process.env['KMC_TEST_BROKER'] === 'mosquitto' ? MOSQUITTO : AEDES;

/**
 * One test's world: a broker, a kmc orchestrator against the run's control plane, and simulated bases. Each
 * harness has its own env (topic prefix and node label), zone and base ids, so tests in parallel never see
 * each other's bases or nodes. Timers are short so node transitions take seconds, not minutes.
 */
export interface KmcHarnessOptions {
  readonly config?: UserConfig;
  readonly plugins?: readonly KmcPlugin[];
  /** Use this broker instead of a fresh one (to restart kmc against the same bases). */
  readonly broker?: EmbeddedBroker | TestBroker;
  /** Start no kmc in this process (tests that run `kmc run` processes themselves). Default true. */
  readonly startKmc?: boolean;
}

export class KmcHarness {
  readonly env: string;
  readonly zone: string;
  /**
   * This harness's namespace, created at start; kmc watches only it (watch.namespaces), since every kmc's rollout
   * engine would otherwise manage the Deployments of every test running beside it.
   */
  readonly namespace: string;
  readonly kc: KubeConfig;
  readonly broker: EmbeddedBroker | TestBroker;
  readonly logger: Logger;
  readonly bases: SimulatedBase[] = [];
  readonly #ownsBroker: boolean;
  readonly #config: UserConfig;
  readonly #plugins: readonly KmcPlugin[];
  #orchestrators: Orchestrator[] = [];

  private constructor(broker: EmbeddedBroker | TestBroker, ownsBroker: boolean, options: KmcHarnessOptions) {
    this.env = uniqueId('e').replace(/-/g, '');
    this.zone = `${this.env}-zone`;
    this.namespace = `ns-${this.env}`;
    this.kc = testKubeConfig();
    this.broker = broker;
    this.#ownsBroker = ownsBroker;
    this.#plugins = options.plugins ?? [];
    this.logger = createLogger({ level: process.env['KMC_TEST_LOG'] ?? 'silent' });
    this.#config = options.config ?? {};
  }

  static async start(options: KmcHarnessOptions = {}): Promise<KmcHarness> {
    const broker = options.broker ?? (await TEST_BROKER.start());
    const harness = new KmcHarness(broker, !options.broker, options);
    await harness.kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: harness.namespace } } });
    if (options.startKmc ?? true) await harness.startKmc();
    return harness;
  }

  /** The running orchestrators, oldest first. */
  get orchestrators(): readonly Orchestrator[] {
    return this.#orchestrators;
  }

  get kmc(): Orchestrator {
    const latest = this.#orchestrators.at(-1);
    if (!latest) throw new Error('no kmc running');
    return latest;
  }

  /** This harness's kmc config (test timers, its env, zone and broker), with `extra` merged in. */
  kmcConfig(extra: UserConfig = {}): UserConfig {
    return {
      ...this.#config,
      ...extra,
      env: this.env,
      watch: { namespaces: [this.namespace], ...this.#config.watch, ...extra.watch },
      mqtt: { ...this.#config.mqtt, url: this.broker.url, maxMessageAgeSeconds: 30, ...extra.mqtt },
      bases: {
        silenceSeconds: 3,
        leaseRenewSeconds: 2,
        statusRefreshSeconds: 20,
        healthPollSeconds: 2,
        bizPollSeconds: 2,
        zone: this.zone,
        ...this.#config.bases,
        ...extra.bases,
      },
      leaderElection: { enabled: false, ...this.#config.leaderElection, ...extra.leaderElection },
      server: { port: 0, ...this.#config.server, ...extra.server },
      log: { level: 'info', ...this.#config.log, ...extra.log },
    };
  }

  /** Starts (another) kmc replica in this process with this harness's config. */
  async startKmc(extra: UserConfig = {}): Promise<Orchestrator> {
    const orchestrator = new Orchestrator({
      config: configSchema.parse(this.kmcConfig(extra)),
      kc: this.kc,
      plugins: this.#plugins,
      logger: this.logger,
      identity: uniqueId('kmc'),
    });
    await orchestrator.start();
    this.#orchestrators.push(orchestrator);
    return orchestrator;
  }

  async stopKmc(orchestrator: Orchestrator = this.kmc): Promise<void> {
    await orchestrator.stop();
    this.#orchestrators = this.#orchestrators.filter((o) => o !== orchestrator);
  }

  /** A simulated base of this harness's env, started. Heartbeats every second by default. */
  async base(options: Partial<SimulatedBaseOptions> = {}): Promise<SimulatedBase> {
    const base = new SimulatedBase({
      brokerUrl: this.broker.url,
      identity: uniqueId('b'),
      env: this.env,
      heartbeatIntervalMs: 1_000,
      ...options,
    });
    this.bases.push(base);
    await base.start();
    return base;
  }

  nodeName(base: SimulatedBase): string {
    return `virtual-node-${base.identity}`;
  }

  async close(): Promise<void> {
    for (const base of this.bases) await base.stop().catch(() => undefined);
    for (const orchestrator of [...this.#orchestrators].reverse())
      await orchestrator.stop().catch(() => undefined);
    this.#orchestrators = [];
    if (this.#ownsBroker) await this.broker.close();
    // Nodes are cluster-scoped: leave none of this test's behind to weigh on the node-lifecycle controller.
    const core = this.kc.makeApiClient(CoreV1Api);
    await core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
    const nodes = await core.listNode({ labelSelector: `virtual-kubelet.koupleless.io/env=${this.env}` });
    for (const node of nodes.items) {
      await core.deleteNode({ name: node.metadata?.name ?? '' }).catch(() => undefined);
    }
  }
}
