import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import { isAlreadyExists, isConflict, isNotFound } from './kube-errors.ts';

export interface LeaderElectionOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process (pod name + random suffix); written as holderIdentity. */
  readonly identity: string;
  readonly leaseSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retrySeconds: number;
  readonly logger: Logger;
  readonly onStartedLeading: () => void | Promise<void>;
  /** Leadership lost (renewals failed past the deadline) or released. The process should stop acting. */
  readonly onStoppedLeading: (reason: string) => void;
}

/**
 * Lease-based leader election with client-go's semantics and short timings (ARCHITECTURE §2.3):
 * - a candidate takes over only a Lease nobody renewed for a whole lease duration, measured on its own clock
 *   from when it last saw the Lease change (no trust in other machines' clocks), or a released one;
 * - every write carries the resourceVersion it read, so two candidates never both win;
 * - a leader that cannot renew within the renew deadline stops leading;
 * - on a clean stop the leader releases the Lease, so a successor takes over at once.
 */
export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #api: CoordinationV1Api;
  #observed: { holder: string; renewTime: string; resourceVersion: string } | undefined;
  #observedAt = 0;
  #leading = false;
  #lastRenewal = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#api = options.kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops campaigning; a leader releases the Lease first. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#loop;
    if (this.#leading) {
      this.#leading = false;
      await this.#release();
      this.#options.onStoppedLeading('stopped');
    }
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#loop = this.#tick().finally(() => {
        if (!this.#stopped) this.#schedule(this.#options.retrySeconds * 1000);
      });
    }, ms);
  }

  async #tick(): Promise<void> {
    const { logger, renewDeadlineSeconds } = this.#options;
    let renewed = false;
    try {
      renewed = await this.#tryAcquireOrRenew();
    } catch (error) {
      logger.debug(
        { err: error instanceof Error ? error.message : String(error) },
        'leader election attempt failed',
      );
    }
    if (this.#stopped) return;
    if (renewed) {
      this.#lastRenewal = Date.now();
      if (!this.#leading) {
        this.#leading = true;
        logger.info({ identity: this.#options.identity, lease: this.#options.name }, 'became leader');
        await this.#options.onStartedLeading();
      }
    } else if (this.#leading && Date.now() - this.#lastRenewal > renewDeadlineSeconds * 1000) {
      this.#leading = false;
      logger.error(
        { identity: this.#options.identity },
        'lost leadership: could not renew within the deadline',
      );
      this.#options.onStoppedLeading('renew deadline exceeded');
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseSeconds } = this.#options;
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: leaseSeconds,
              acquireTime: new V1MicroTime(),
              renewTime: new V1MicroTime(),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (createError) {
        if (isAlreadyExists(createError)) return false;
        throw createError;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    // Times come back as strings at runtime even though client-node types them as dates.
    const renewTime = String(lease.spec?.renewTime ?? '');
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    const record = { holder, renewTime, resourceVersion };
    if (!this.#observed || this.#observed.holder !== holder || this.#observed.renewTime !== renewTime) {
      this.#observed = record;
      this.#observedAt = Date.now();
    }
    const duration = (lease.spec?.leaseDurationSeconds ?? leaseSeconds) * 1000;
    const heldByOther = holder !== '' && holder !== identity;
    if (heldByOther && this.#observedAt + duration > Date.now()) return false;

    const takingOver = holder !== identity;
    const spec = {
      ...lease.spec,
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: new V1MicroTime(),
      ...(takingOver
        ? { acquireTime: new V1MicroTime(), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
        : {}),
    };
    try {
      // replace carries the resourceVersion we read: a concurrent winner makes this a 409.
      await this.#api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  async #release(): Promise<void> {
    const { namespace, name, identity, logger } = this.#options;
    try {
      const lease = await this.#api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() },
        },
      });
      logger.info({ identity }, 'released leadership');
    } catch (error) {
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not release the leader lease',
      );
    }
  }
}
