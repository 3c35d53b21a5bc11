import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { UserConfig } from '../../config/define-config.ts';
import type { KmcPlugin } from '../../core/plugin.ts';
import type { ModuleRollout } from '../../core/rollout/module-rollout.ts';
import type { ActivationMode } from '../../core/sim/sim-config.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from './kmc-harness.ts';
import { kubectl } from './kube.ts';
import { exampleManifest, selectBases, setModuleVersion, toYaml, type ModuleWorkload } from './manifests.ts';
import { rolloutsApi } from './rollouts.ts';
import { waitFor } from './wait-for.ts';
import { isReady, versionOf } from './pods.ts';

export const heldOf = (pod: V1Pod) =>
  pod.status?.conditions?.find((c) => c.type === 'koupleless.io/InstallHeld' && c.status === 'True');

export interface RolloutWorldOptions {
  readonly plugins?: readonly KmcPlugin[];
  readonly config?: UserConfig;
  /** Bases of the world (default 10). */
  readonly bases?: number;
  /** Replicas of biz1 (default: one per base). */
  readonly replicas?: number;
  /** Activation mode of every base, or one per base. */
  readonly activationMode?: ActivationMode | readonly ActivationMode[];
  readonly installLatencyMs?: number;
  /** Annotations on the Deployment. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The Deployment's own rolling update (default: the example's 30 % / 30 %). */
  readonly rollingUpdate?: { readonly maxSurge?: number | string; readonly maxUnavailable?: number | string };
}

/**
 * The scene of a rollout test: a kmc with the given plugins, N simulated bases, and the corrected example
 * Deployment of biz1 released at 0.0.1 on them (first install Completed). Helpers apply new versions, read the
 * ModuleRollouts, and check the invariants every batched release must keep on the bases' own timelines.
 */
export class RolloutWorld {
  readonly harness: KmcHarness;
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly bases: SimulatedBase[];
  readonly manifest: ModuleWorkload;
  readonly api: ReturnType<typeof rolloutsApi>;

  private constructor(harness: KmcHarness, bases: SimulatedBase[], manifest: ModuleWorkload) {
    this.harness = harness;
    this.core = harness.kc.makeApiClient(CoreV1Api);
    this.namespace = harness.namespace;
    this.bases = bases;
    this.manifest = manifest;
    this.api = rolloutsApi(harness.kc, harness.namespace);
  }

  static async create(options: RolloutWorldOptions = {}): Promise<RolloutWorld> {
    const harness = await KmcHarness.start({
      plugins: options.plugins ?? [],
      ...(options.config ? { config: options.config } : {}),
    });
    const baseName = `base-${harness.env}`;
    const count = options.bases ?? 10;
    const bases: SimulatedBase[] = [];
    for (let i = 0; i < count; i += 1) {
      const mode = options.activationMode;
      bases.push(
        await harness.base({
          name: baseName,
          installLatencyMs: options.installLatencyMs ?? 300,
          ...(mode ? { activationMode: typeof mode === 'string' ? mode : (mode[i] ?? 'multi-version') } : {}),
        }),
      );
    }
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = options.replicas ?? count;
    if (options.annotations) manifest.metadata.annotations = { ...options.annotations };
    if (options.rollingUpdate) {
      manifest.spec['strategy'] = { type: 'RollingUpdate', rollingUpdate: { ...options.rollingUpdate } };
    }
    const world = new RolloutWorld(harness, bases, manifest);
    await world.applyManifest(manifest);
    await world.settled('0.0.1', manifest.spec.replicas);
    await world.completed(1);
    return world;
  }

  /** Pods of biz1 (not being deleted unless `all`). */
  async pods(all = false): Promise<V1Pod[]> {
    const list = (await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: 'app=biz1' }))
      .items;
    return all ? list : list.filter((p) => !p.metadata?.deletionTimestamp);
  }

  async applyManifest(manifest: ModuleWorkload): Promise<void> {
    await kubectl(['apply', '-n', this.namespace, '-f', '-'], { stdin: toYaml(manifest) });
  }

  /** Releases biz1 at `version` (a copy of the world's manifest, optionally changed further). */
  async release(version: string, change?: (manifest: ModuleWorkload) => void): Promise<ModuleWorkload> {
    const next = setModuleVersion(structuredClone(this.manifest), 'biz1', version);
    change?.(next);
    await this.applyManifest(next);
    return next;
  }

  /** Bases on which biz1 `version` is ACTIVATED now (by their own timelines). */
  switched(version: string, at = Date.now()): number {
    return this.bases.filter((b) => b.timeline.activatedVersionsAt('biz1', at).includes(version)).length;
  }

  /** Every base runs exactly `version` of biz1, and `replicas` Ready pods of it exist. */
  async settled(version: string, replicas: number, timeoutMs = 120_000): Promise<V1Pod[]> {
    return waitFor(
      async () => {
        const list = await this.pods();
        return list.length === replicas && list.every((pod) => isReady(pod) && versionOf(pod) === version)
          ? list
          : undefined;
      },
      { description: `${String(replicas)} Ready pods at ${version}`, timeoutMs },
    );
  }

  rollout(revision: number): Promise<ModuleRollout | undefined> {
    return this.api.get(`biz1-r${String(revision)}`);
  }

  /** Waits for a ModuleRollout to satisfy `accept`; a timeout says what its status was. */
  async waitRollout(
    revision: number,
    accept: (rollout: ModuleRollout) => boolean,
    description: string,
    timeoutMs = 90_000,
  ): Promise<ModuleRollout> {
    return waitFor(
      async () => {
        const rollout = await this.rollout(revision);
        if (rollout && accept(rollout)) return rollout;
        throw new Error(`status: ${JSON.stringify(rollout?.status ?? null)}`);
      },
      { description, timeoutMs },
    );
  }

  /** The rollout of `revision` holds before batch `batch` for `reason`. */
  holding(revision: number, batch: number, reason?: string, timeoutMs = 90_000): Promise<ModuleRollout> {
    return this.waitRollout(
      revision,
      (r) =>
        r.status?.phase === 'Holding' &&
        r.status.hold?.batch === batch &&
        (reason === undefined || r.status.hold.reason === reason),
      `biz1-r${String(revision)} holding before batch ${String(batch)}${reason ? ` (${reason})` : ''}`,
      timeoutMs,
    );
  }

  async confirm(revision: number, batch: number): Promise<void> {
    await this.api.patchSpec(`biz1-r${String(revision)}`, { confirmedBatch: batch });
  }

  /** `kubectl wait` for the Completed condition of a revision's ModuleRollout. */
  async completed(revision: number, timeoutSeconds = 120): Promise<void> {
    // As a script would: the object first (it appears once kmc sees the revision), then its condition.
    await this.waitRollout(revision, () => true, `biz1-r${String(revision)} created`, 30_000);
    const result = await kubectl([
      'wait',
      '-n',
      this.namespace,
      `modulerollout/biz1-r${String(revision)}`,
      '--for=condition=Completed',
      `--timeout=${String(timeoutSeconds)}s`,
    ]);
    expect(result.stdout).toContain('condition met');
  }

  /** No base that had biz1 was ever without an ACTIVATED biz1 between `from` and `to`. */
  expectNoGaps(from: number, to = Date.now()): void {
    // With each gap, the base's biz1 history, so a failure shows how the gap came about.
    const gaps = this.bases
      // A base that had no biz1 yet (added by a scale) has nothing to lose.
      .filter((b) => b.timeline.activatedVersionsAt('biz1', from).length > 0)
      .map((b) => ({
        base: b.identity,
        gaps: b.timeline.activationGaps('biz1', from, to),
        history: b.timeline
          .bizChanges()
          .filter((c) => c.bizName === 'biz1' && c.at >= from)
          .map((c) => `+${String(c.at - from)}ms ${c.bizVersion} ${c.from ?? '-'}→${c.to ?? '-'}`),
      }))
      .filter((g) => g.gaps.length > 0);
    expect(gaps).toEqual([]);
  }

  /**
   * The batch invariants of a finished rollout to `version`, on the bases' timelines: at no instant more bases
   * switched, and never more old instances uninstalled, than the batches started by then allow.
   */
  async expectBatchesKept(revision: number, version: string, from: number): Promise<number[]> {
    const done = await this.rollout(revision);
    const starts = (done?.status?.batches ?? []).map((b) => ({
      target: b.target,
      at: Date.parse(b.startedAt ?? ''),
    }));
    const activations = this.bases
      .map((b) => firstActivation(b, version, from))
      .filter((at) => at !== undefined)
      .sort((a, b) => a - b);
    activations.forEach((at, i) => {
      const released = starts.filter((b) => b.at <= at).at(-1)?.target ?? 0;
      expect(i + 1, `activation ${String(i + 1)} at ${new Date(at).toISOString()}`).toBeLessThanOrEqual(
        released,
      );
    });
    // Uninstalls of the versions being replaced (an uninstall-first base also drops its deactivated copy of the
    // new version once, to reinstall it: that is not a replica lost). Counted cumulatively: an old pod of batch
    // n may be deleted (and uninstalled) after batch n+1 started, since the Deployment controller scales the old
    // ReplicaSet down on its own time; what must never happen is more replicas gone than batches released.
    const uninstalls = this.bases
      .flatMap((b) => b.timeline.received())
      .filter((m) => m.kind === 'uninstallBiz' && m.at >= from && commandVersion(m.payload) !== version)
      .map((m) => m.at)
      .sort((a, b) => a - b);
    uninstalls.forEach((at, i) => {
      const released = starts.filter((b) => b.at <= at).at(-1)?.target ?? 0;
      expect(i + 1, `uninstall ${String(i + 1)} at ${new Date(at).toISOString()}`).toBeLessThanOrEqual(
        released,
      );
    });
    return starts.map((b) => b.target);
  }

  async close(): Promise<void> {
    await this.harness.close();
  }
}

/** When `version` of biz1 first turned ACTIVATED on a base at or after `from`. */
function firstActivation(base: SimulatedBase, version: string, from: number): number | undefined {
  return base.timeline
    .bizChanges()
    .find((c) => c.bizName === 'biz1' && c.bizVersion === version && c.to === 'ACTIVATED' && c.at >= from)
    ?.at;
}

/** The bizVersion an install / uninstall command names. */
function commandVersion(payload: string): string | undefined {
  try {
    const parsed = JSON.parse(payload) as { bizVersion?: unknown };
    return typeof parsed.bizVersion === 'string' ? parsed.bizVersion : undefined;
  } catch {
    return undefined;
  }
}
