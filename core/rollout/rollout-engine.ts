import {
  AppsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.ts';
import { Controller, type ReconcileResult } from '../controller/controller.ts';
import type { Hold } from '../hold.ts';
import type { Hooks, InstallContext } from '../hooks.ts';
import type { ClusterCaches } from '../kube/cluster-caches.ts';
import { isPodReady } from '../kube/conditions.ts';
import { deploymentRef, type EventRecorder, type ObjectRef } from '../kube/event-recorder.ts';
import { isAlreadyExists, isConflict, isNamespaceTerminating, isNotFound } from '../kube/kube-errors.ts';
import { parseLabelSelector, type LabelSelector } from '../kube/label-selector.ts';
import { mergePatch } from '../kube/patch-options.ts';
import type { Logger } from '../logger.ts';
import { controllerObserver, type Metrics } from '../metrics.ts';
import { isAdmitted, isModulePod, moduleKey, podModules } from '../module/module-pod.ts';
import { sameModules } from '../module/workload-index.ts';
import { rescalePlan } from './batch-planner.ts';
import { planRollout } from './plan-rollout.ts';
import { deadlineRisk } from './deadline-risk.ts';
import {
  isAvailable,
  isUndo,
  nextAvailableIn,
  newestReplicaSet,
  POD_TEMPLATE_HASH_LABEL,
  withoutTemplateHash,
  replicaSetOf,
  replicaSetsOf,
  revisionOf,
} from './deployment-revisions.ts';
import { gateDecision, type PodRevision } from './install-gate.ts';
import {
  DEPLOYMENT_LABEL,
  ROLLOUT_GROUP,
  ROLLOUT_KIND,
  ROLLOUT_PLURAL,
  ROLLOUT_VERSION,
  isTerminal,
  rolloutName,
  type BatchStatus,
  type ModuleRollout,
  type ModuleRolloutStatus,
  type RolloutCondition,
  type RolloutKind,
  type RolloutPhase,
} from './module-rollout.ts';
import type { Batch, BatchRecord, PodRollout, RolloutView } from './rollout-types.ts';
import { resolveStrategy, unbatchedReason, type ConfigStrategy, type Strategy } from './strategy.ts';

export interface RolloutEngineOptions {
  readonly kc: KubeConfig;
  readonly caches: ClusterCaches;
  readonly hooks: Hooks;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly deploymentSelector: string;
  readonly config: ConfigStrategy;
  /** Asks the module controller to look again at the pods of a Deployment (the gate's answer may have changed). */
  readonly requeuePods: (namespace: string, name: string) => void;
  /** Admitted by the install gate (recorded on the pod, or just now and not in the cache yet). */
  readonly isAdmitted: (pod: V1Pod) => boolean;
}

const MODULE_POD_LABELS = [
  'module-controller.koupleless.io/component',
  'virtual-kubelet.koupleless.io/component',
];

/**
 * The rollout engine (ARCHITECTURE §3.2–§3.3): one ModuleRollout per revision of every module Deployment, batches
 * as cumulative targets, the install gate that paces them, holds between batches, and every step as an Event.
 * Its state lives only in the ModuleRollout status (a restarted controller continues where the last one stopped);
 * it never touches the Deployment except to abort, and never its `spec.paused`.
 */
export class RolloutEngine {
  readonly #options: RolloutEngineOptions;
  readonly #controller: Controller;
  readonly #custom: CustomObjectsApi;
  readonly #apps: AppsV1Api;
  readonly #selector: LabelSelector;
  /**
   * The last status this engine wrote per ModuleRollout, with the resourceVersion it got: a reconcile that
   * follows a write sooner than the cache shows it must not redo (and re-announce) the same step.
   */
  readonly #written = new Map<string, { resourceVersion: number; status: ModuleRolloutStatus }>();
  #leading = false;

  constructor(options: RolloutEngineOptions) {
    this.#options = options;
    const { kc, caches, logger, metrics } = options;
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#apps = kc.makeApiClient(AppsV1Api);
    this.#selector = parseLabelSelector(options.deploymentSelector);
    this.#controller = new Controller({
      name: 'rollout',
      logger: logger.child({ controller: 'rollout' }),
      reconcile: (key) => this.#reconcile(key),
      workers: 2,
      isQuiet: (error) => isConflict(error) || isNamespaceTerminating(error),
      observer: controllerObserver(metrics),
    });
    caches.on('deployment', (_event, deployment) => {
      this.#enqueue(deployment.metadata?.namespace, deployment.metadata?.name);
    });
    caches.on('replicaSet', (_event, rs) => {
      const owner = rs.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Deployment');
      this.#enqueue(rs.metadata?.namespace, owner?.name);
    });
    caches.on('moduleRollout', (_event, rollout, previous) => {
      this.#enqueue(rollout.metadata?.namespace, rollout.spec.deployment);
      // Held pods are asked again once the cache shows a new batch, phase or hold: their hold may be gone or
      // read differently (the requeue right after the write can run before the cache has it).
      if (previous && roomOf(previous.status) !== roomOf(rollout.status) && this.#leading)
        options.requeuePods(rollout.metadata?.namespace ?? '', rollout.spec.deployment);
    });
    caches.on('pod', (_event, pod, previous) => {
      // Readiness and admission move batches; other pod changes do not concern the engine.
      const changed =
        isPodReady(pod) !== isPodReady(previous) ||
        isAdmitted(pod) !== (previous ? isAdmitted(previous) : false) ||
        Boolean(pod.metadata?.deletionTimestamp) !== Boolean(previous?.metadata?.deletionTimestamp);
      if (!changed || !isModulePod(pod)) return;
      const rs = pod.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'ReplicaSet');
      if (!rs) return;
      const owner = caches.replicaSets
        .get(rs.name, pod.metadata?.namespace)
        ?.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Deployment');
      this.#enqueue(pod.metadata?.namespace, owner?.name);
    });
  }

  startLeading(): void {
    this.#leading = true;
    this.#controller.start();
    for (const deployment of this.#options.caches.deployments.list()) {
      this.#enqueue(deployment.metadata?.namespace, deployment.metadata?.name);
    }
  }

  async stop(): Promise<void> {
    this.#leading = false;
    await this.#controller.stop();
  }

  /**
   * The engine's `holdInstall` tap: batch room, pause, and the revision guard for Deployment pods. The module
   * controller runs the gate one decision at a time per workload and counts admissions the pod cache does not
   * show yet, so two bases never both take the last slot of a batch.
   */
  gate(pod: V1Pod, context: InstallContext): Promise<Hold | undefined> {
    const facts = this.#deploymentOf(pod);
    if (!facts) return Promise.resolve(undefined);
    const { deployment, target } = facts;
    // Between a new template (an apply, an undo) and the ReplicaSet that carries it, "the target" would be the
    // previous one: nothing installs until the Deployment controller (and this cache) caught up.
    const wanted = deployment.spec?.template.spec;
    const targetSpec = target.spec?.template?.spec;
    if (wanted && targetSpec && !sameModules(wanted, targetSpec)) {
      return Promise.resolve({
        reason: 'AwaitingRollout',
        message: `the Deployment's new template has no ReplicaSet yet: waiting for the Deployment controller`,
        recheckAfterMs: 1_000,
      });
    }
    return Promise.resolve(this.#decide(pod, context, facts));
  }

  #decide(pod: V1Pod, context: InstallContext, facts: DeploymentFacts): Hold | undefined {
    const { deployment, target, sets } = facts;
    const namespace = deployment.metadata?.namespace ?? '';
    const name = deployment.metadata?.name ?? '';
    const targetRevision = revisionOf(target);
    const rollout = this.#options.caches.moduleRollouts.get(rolloutName(name, targetRevision), namespace);
    const podRs = replicaSetOf(pod, sets);
    const podRevisionNumber = revisionOf(podRs);
    // The status this engine wrote last, when the cache does not show it yet.
    const status = rollout ? this.#freshStatus(rollout) : undefined;
    const podRevision = podRevisionOf(pod, target, sets, status?.stableRevision);
    const targetPods = this.#options.caches.podIndex
      .byOwner(target.metadata?.uid ?? '')
      .filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.uid !== pod.metadata?.uid);
    const admittedTarget = targetPods.filter((p) => this.#options.isAdmitted(p)).length;
    const targetModules = podModules({ spec: target.spec?.template?.spec ?? { containers: [] } }).modules;
    const baseRunsTarget =
      targetModules.some((m) => context.inventory.has(moduleKey(m.bizName, m.bizVersion))) ||
      targetPods.some((p) => p.spec?.nodeName === context.base.nodeName && this.#options.isAdmitted(p));
    return gateDecision({
      deployment: name,
      targetRevision,
      podRevision,
      podRevisionNumber,
      rollout: status,
      paused: deployment.spec?.paused === true,
      admittedTarget,
      baseRunsTarget,
    });
  }

  #deploymentOf(pod: V1Pod): DeploymentFacts | undefined {
    const { caches } = this.#options;
    const namespace = pod.metadata?.namespace;
    const rsRef = pod.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'ReplicaSet');
    if (!rsRef) return undefined;
    const rs = caches.replicaSets.get(rsRef.name, namespace);
    const dRef = rs?.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Deployment');
    if (!dRef) return undefined;
    const deployment = caches.deployments.get(dRef.name, namespace);
    if (!deployment || !this.#manages(deployment)) return undefined;
    const sets = replicaSetsOf(deployment, caches.replicaSets.list(namespace));
    const target = newestReplicaSet(sets);
    return target ? { deployment, target, sets } : undefined;
  }

  #manages(deployment: V1Deployment): boolean {
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    return (
      MODULE_POD_LABELS.some((label) => labels[label] === 'module') &&
      this.#selector.matches(deployment.metadata?.labels) &&
      !deployment.metadata?.deletionTimestamp
    );
  }

  #enqueue(namespace: string | undefined, name: string | undefined): void {
    if (this.#leading && namespace && name) this.#controller.enqueue(`${namespace}/${name}`);
  }

  async #reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const { caches, clock } = this.#options;
    const deployment = caches.deployments.get(name, namespace);
    if (!deployment || !this.#manages(deployment)) return undefined;
    const sets = replicaSetsOf(deployment, caches.replicaSets.list(namespace));
    const target = newestReplicaSet(sets);
    if (!target) return undefined;
    const targetRevision = revisionOf(target);
    const rollouts = caches.moduleRollouts
      .list(namespace)
      .filter((r) => r.metadata?.labels?.[DEPLOYMENT_LABEL] === name && r.spec.deployment === name);
    const currentName = rolloutName(name, targetRevision);
    const now = clock.now();

    for (const older of rollouts) {
      // What this engine last wrote, not the cache: an abort just written must not become a supersede.
      if (older.metadata?.name === currentName || isTerminal(this.#freshStatus(older).phase)) continue;
      await this.#supersede(deployment, older, targetRevision);
    }
    await this.#prune(rollouts, sets, currentName);

    const current = rollouts.find((r) => r.metadata?.name === currentName);
    if (!current) {
      await this.#create(deployment, target, sets, rollouts);
      return undefined;
    }
    const status: ModuleRolloutStatus = this.#freshStatus(current);
    if (isTerminal(status.phase)) return undefined;
    if (current.spec.abort) {
      await this.#abort(deployment, current, sets);
      return undefined;
    }

    const { strategy, problems } = resolveStrategy(
      this.#options.config,
      deployment.metadata?.annotations,
      current.spec.strategy,
    );
    for (const problem of problems) this.#event(deployment, current, 'Warning', 'BadAnnotation', problem);
    const replicas = await this.#options.hooks.desiredReplicas.promise(
      deployment.spec?.replicas ?? 1,
      deployment,
    );
    const kind: RolloutKind = status.kind ?? 'update';
    const unbatched = isUnbatched(kind, strategy, deployment);
    const minReady = deployment.spec?.minReadySeconds ?? 0;
    const targetPods = caches.podIndex
      .byOwner(target.metadata?.uid ?? '')
      .filter((p) => !p.metadata?.deletionTimestamp);
    const updatedAvailable = targetPods.filter((p) => isAvailable(p, minReady, now)).length;
    const admitted = targetPods.filter(isAdmitted).length;

    const view = (over: Partial<ModuleRolloutStatus> = {}): RolloutView => {
      const merged = { ...status, ...over };
      return {
        namespace,
        deployment,
        name: currentName,
        stableRevision: merged.stableRevision,
        targetRevision,
        replicas,
        now,
        currentBatch: merged.currentBatch ?? 0,
        batches: batchRecords(merged.batches),
        strategy,
        confirmedBatch: current.spec.confirmedBatch ?? 0,
        kind,
        plan: merged.plan ?? [],
        updatedAvailable,
        unbatched,
      };
    };

    // The plan: made once, rescaled when the Deployment is scaled mid-rollout.
    let plan = status.plan ? [...status.plan] : undefined;
    const started = (status.batches ?? []).filter((b) => b.startedAt).length;
    if (!plan) {
      plan = unbatched
        ? replicas > 0
          ? [replicas]
          : []
        : planRollout(this.#options.hooks, { ...view(), strategy, replicas });
    } else if ((status.replicas ?? replicas) !== replicas) {
      plan = unbatched ? (replicas > 0 ? [replicas] : []) : rescalePlan(plan, started, replicas);
      this.#event(
        deployment,
        current,
        'Normal',
        'RolloutRescaled',
        `scaled to ${replicas}: plan ${plan.join(', ')}`,
      );
    }
    let batches: BatchStatus[] = plan.map((target, i) => {
      const previous = status.batches?.[i];
      return { ...(previous ?? {}), index: i + 1, target };
    });
    let currentBatch = Math.min(status.currentBatch ?? 0, plan.length);
    let phase: RolloutPhase = status.phase ?? 'Progressing';
    let hold: ModuleRolloutStatus['hold'] = status.hold ?? null;
    const waits: number[] = [];

    // Is the batch in progress done?
    const inProgress = currentBatch >= 1 ? batches[currentBatch - 1] : undefined;
    if (inProgress && !inProgress.completedAt && updatedAvailable >= inProgress.target) {
      const batch = this.#batch(inProgress, batches, targetPods);
      const extra = await this.#options.hooks.isBatchComplete.promise(
        batch,
        view({ plan, batches, currentBatch }),
      );
      if (extra !== false) {
        batches = batches.map((b) => (b.index === inProgress.index ? { ...b, completedAt: iso(now) } : b));
        this.#event(
          deployment,
          current,
          'Normal',
          'BatchCompleted',
          `batch ${inProgress.index} of ${plan.length} completed: ${updatedAvailable} of ${replicas} pods run revision ${targetRevision}`,
        );
        await this.#options.hooks.batchCompleted.promise(batch, view({ plan, batches, currentBatch }));
      } else {
        // Base reports do not wake the engine: look again soon.
        waits.push(1_000);
      }
    } else if (inProgress && !inProgress.completedAt) {
      const soon = nextAvailableIn(targetPods, minReady, now);
      if (soon !== undefined) waits.push(soon + 50);
    }

    // Start the next batch, unless something holds it.
    const doneSoFar = currentBatch === 0 || Boolean(batches[currentBatch - 1]?.completedAt);
    if (doneSoFar && currentBatch < plan.length) {
      const next = batches[currentBatch];
      if (next) {
        const batch = this.#batch(next, batches, targetPods);
        let nextHold: Hold | undefined;
        if (deployment.spec?.paused) {
          nextHold = {
            reason: 'RolloutPaused',
            message: `the Deployment is paused: batch ${next.index} starts after kubectl rollout resume deployment/${name}`,
          };
        } else if (!unbatched) {
          nextHold = await this.#options.hooks.holdBatch.promise(
            batch,
            view({ plan, batches, currentBatch }),
          );
        }
        if (nextHold) {
          const same = hold?.reason === nextHold.reason && hold.batch === next.index;
          hold = {
            reason: nextHold.reason,
            message: nextHold.message,
            batch: next.index,
            since: same && hold ? hold.since : iso(now),
            // null, not absent: the status is written as a merge patch, which keeps a key left out.
            recheckAt: nextHold.recheckAfterMs !== undefined ? iso(now + nextHold.recheckAfterMs) : null,
          };
          if (!same)
            this.#event(
              deployment,
              current,
              'Normal',
              'RolloutHolding',
              `batch ${next.index}: ${nextHold.reason}: ${nextHold.message}`,
            );
          phase = 'Holding';
          if (nextHold.recheckAfterMs !== undefined) waits.push(nextHold.recheckAfterMs);
        } else {
          hold = null;
          currentBatch = next.index;
          batches = batches.map((b) => (b.index === next.index ? { ...b, startedAt: iso(now) } : b));
          phase = 'Progressing';
          if (next.index === 1) {
            this.#event(
              deployment,
              current,
              'Normal',
              'RolloutStarted',
              `rollout to revision ${targetRevision}: plan ${plan.join(', ')} (${kind})`,
            );
            const risk = unbatched
              ? undefined
              : deadlineRisk(strategy, plan.length, deployment.spec?.progressDeadlineSeconds, currentName);
            if (risk) this.#event(deployment, current, 'Warning', 'ProgressDeadlineRisk', risk);
            await this.#options.hooks.rolloutStarted.promise(view({ plan, batches, currentBatch }));
          }
          this.#event(
            deployment,
            current,
            'Normal',
            'BatchStarted',
            `batch ${next.index} of ${plan.length} started: up to ${next.target} of ${replicas} pods on revision ${targetRevision}`,
          );
          await this.#options.hooks.batchStarted.promise(
            this.#batch(next, batches, targetPods),
            view({ plan, batches, currentBatch }),
          );
        }
      }
    }
    const finished =
      plan.length === 0 || (currentBatch === plan.length && Boolean(batches[plan.length - 1]?.completedAt));
    if (finished && phase !== 'Completed') {
      phase = 'Completed';
      hold = null;
      this.#event(
        deployment,
        current,
        'Normal',
        'RolloutCompleted',
        `revision ${targetRevision} rolled out: ${replicas} pods`,
      );
      await this.#options.hooks.rolloutCompleted.promise(view({ plan, batches, currentBatch, phase }));
    }

    const deadline = deployment.status?.conditions?.find(
      (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
    );
    const next: ModuleRolloutStatus = {
      ...status,
      observedGeneration: current.metadata?.generation ?? 0,
      targetRevision,
      replicas,
      plan,
      currentBatch,
      batchProgress: `${currentBatch}/${plan.length}`,
      releasedSlots: Math.max(
        status.releasedSlots ?? 0,
        Math.min(admitted, currentBatch >= 1 ? (plan[currentBatch - 1] ?? 0) : 0),
      ),
      updatedAvailable,
      phase,
      hold,
      batches,
      conditions: conditions(
        status.conditions ?? [],
        now,
        {
          Progressing: phase === 'Progressing' || phase === 'Holding',
          Holding: phase === 'Holding',
          Completed: phase === 'Completed',
          DeadlineExceeded: Boolean(deadline) && phase !== 'Completed',
        },
        hold?.reason,
        hold?.message,
      ),
    };
    if (
      deadline &&
      !status.conditions?.some((c) => c.type === 'DeadlineExceeded' && c.status === 'True') &&
      phase !== 'Completed'
    ) {
      this.#event(
        deployment,
        current,
        'Warning',
        'DeadlineExceeded',
        `the Deployment's progressDeadlineSeconds passed while the rollout ${phase === 'Holding' ? 'holds' : 'progresses'}; kmc keeps going`,
      );
    }
    await this.#writeStatus(current, status, next, deployment);
    const positive = waits.filter((ms) => Number.isFinite(ms) && ms > 0);
    return positive.length > 0 ? { requeueAfterMs: Math.max(100, Math.min(...positive)) } : undefined;
  }

  #batch(batch: BatchStatus, batches: readonly BatchStatus[], targetPods: readonly V1Pod[]): Batch {
    return {
      index: batch.index,
      target: batch.target,
      previousTarget: batches[batch.index - 2]?.target ?? 0,
      pods: targetPods,
    };
  }

  async #create(
    deployment: V1Deployment,
    target: V1ReplicaSet,
    sets: readonly V1ReplicaSet[],
    rollouts: readonly ModuleRollout[],
  ): Promise<void> {
    const namespace = deployment.metadata?.namespace ?? '';
    const name = deployment.metadata?.name ?? '';
    const revision = revisionOf(target);
    const others = sets.filter((rs) => rs !== target);
    const lastCompleted = [...rollouts]
      .filter((r) => r.status?.phase === 'Completed')
      .sort((a, b) => b.spec.revision - a.spec.revision)[0];
    const withPods = others.find(
      (rs) =>
        this.#options.caches.podIndex.byOwner(rs.metadata?.uid ?? '').length > 0 ||
        (rs.status?.replicas ?? 0) > 0,
    );
    const stableRevision =
      lastCompleted?.spec.revision !== undefined &&
      others.some((rs) => revisionOf(rs) === lastCompleted.spec.revision)
        ? lastCompleted.spec.revision
        : withPods
          ? revisionOf(withPods)
          : undefined;
    const kind: RolloutKind = isUndo(target)
      ? 'undo'
      : others.length === 0 || stableRevision === undefined
        ? 'first-install'
        : 'update';
    const body: ModuleRollout = {
      apiVersion: `${ROLLOUT_GROUP}/${ROLLOUT_VERSION}`,
      kind: ROLLOUT_KIND,
      metadata: {
        name: rolloutName(name, revision),
        namespace,
        labels: { [DEPLOYMENT_LABEL]: name },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name,
            uid: deployment.metadata?.uid ?? '',
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
      },
      spec: { deployment: name, revision },
    };
    try {
      const created = (await this.#custom.createNamespacedCustomObject({
        group: ROLLOUT_GROUP,
        version: ROLLOUT_VERSION,
        plural: ROLLOUT_PLURAL,
        namespace,
        body,
      })) as ModuleRollout;
      this.#options.metrics.apiWrites.inc({ resource: 'modulerollouts', verb: 'create' });
      const status: ModuleRolloutStatus = {
        kind,
        targetRevision: revision,
        targetHash: target.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
        ...(stableRevision !== undefined ? { stableRevision } : {}),
        phase: 'Progressing',
        currentBatch: 0,
      };
      await this.#writeStatus(created, {}, status, deployment);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  async #supersede(deployment: V1Deployment, rollout: ModuleRollout, by: number): Promise<void> {
    const now = this.#options.clock.now();
    const status = rollout.status ?? {};
    const next: ModuleRolloutStatus = {
      ...status,
      phase: 'Superseded',
      hold: null,
      reason: 'Superseded',
      message: `revision ${by} was applied before this rollout completed`,
      conditions: conditions(
        status.conditions ?? [],
        now,
        { Progressing: false, Holding: false, Completed: false },
        'Superseded',
        `superseded by revision ${by}`,
      ),
    };
    await this.#writeStatus(rollout, status, next, deployment);
    this.#event(
      deployment,
      rollout,
      'Normal',
      'RolloutSuperseded',
      `revision ${rollout.spec.revision} superseded by revision ${by}`,
    );
    await this.#options.hooks.rolloutSuperseded.promise(this.#statusView(deployment, rollout, next));
  }

  async #abort(
    deployment: V1Deployment,
    rollout: ModuleRollout,
    sets: readonly V1ReplicaSet[],
  ): Promise<void> {
    const status = rollout.status ?? {};
    const now = this.#options.clock.now();
    const stable = sets.find(
      (rs) => status.stableRevision !== undefined && revisionOf(rs) === status.stableRevision,
    );
    if (!stable?.spec?.template) {
      const message =
        status.stableRevision === undefined
          ? 'cannot abort: this rollout has no stable revision to go back to (a first install)'
          : `cannot abort: the ReplicaSet of stable revision ${status.stableRevision} is gone (revisionHistoryLimit keeps too few)`;
      if (status.message !== message) {
        await this.#writeStatus(rollout, status, { ...status, reason: 'AbortRefused', message }, deployment);
        this.#event(deployment, rollout, 'Warning', 'AbortRefused', message);
      }
      return;
    }
    // One patch: the stable template back (without the ReplicaSet's own hash label), as kubectl rollout undo does.
    const template = structuredClone(stable.spec.template);
    if (template.metadata?.labels) template.metadata.labels = withoutTemplateHash(template.metadata.labels);
    await this.#apps.patchNamespacedDeployment(
      {
        name: deployment.metadata?.name ?? '',
        namespace: deployment.metadata?.namespace ?? '',
        body: { spec: { template } },
      },
      mergePatch(),
    );
    this.#options.metrics.apiWrites.inc({ resource: 'deployments', verb: 'patch' });
    const next: ModuleRolloutStatus = {
      ...status,
      phase: 'Aborted',
      hold: null,
      reason: 'Aborted',
      message: `aborted: back to revision ${status.stableRevision}`,
      conditions: conditions(
        status.conditions ?? [],
        now,
        { Progressing: false, Holding: false, Completed: false },
        'Aborted',
        'aborted by spec.abort',
      ),
    };
    await this.#writeStatus(rollout, status, next, deployment);
    this.#event(
      deployment,
      rollout,
      'Warning',
      'RolloutAborted',
      `rollout to revision ${rollout.spec.revision} aborted: restoring revision ${status.stableRevision}`,
    );
    await this.#options.hooks.rolloutAborted.promise(this.#statusView(deployment, rollout, next));
  }

  /** ModuleRollouts follow the Deployment's revision history: one whose revision has no ReplicaSet left goes. */
  async #prune(
    rollouts: readonly ModuleRollout[],
    sets: readonly V1ReplicaSet[],
    currentName: string,
  ): Promise<void> {
    const revisions = new Set(sets.map(revisionOf));
    for (const rollout of rollouts) {
      if (
        rollout.metadata?.name === currentName ||
        revisions.has(rollout.spec.revision) ||
        !isTerminal(rollout.status?.phase)
      )
        continue;
      try {
        await this.#custom.deleteNamespacedCustomObject({
          group: ROLLOUT_GROUP,
          version: ROLLOUT_VERSION,
          plural: ROLLOUT_PLURAL,
          namespace: rollout.metadata?.namespace ?? '',
          name: rollout.metadata?.name ?? '',
        });
        this.#options.metrics.apiWrites.inc({ resource: 'modulerollouts', verb: 'delete' });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  /** The cached status, or what this engine wrote last when the cache has not caught up with it yet. */
  #freshStatus(rollout: ModuleRollout): ModuleRolloutStatus {
    const key = `${rollout.metadata?.namespace ?? ''}/${rollout.metadata?.name ?? ''}`;
    const written = this.#written.get(key);
    const cached = Number(rollout.metadata?.resourceVersion ?? 0);
    if (written && written.resourceVersion > cached) return written.status;
    this.#written.delete(key);
    return rollout.status ?? {};
  }

  async #writeStatus(
    rollout: ModuleRollout,
    before: ModuleRolloutStatus,
    next: ModuleRolloutStatus,
    deployment: V1Deployment,
  ): Promise<void> {
    if (isDeepStrictEqual(before, next)) return;
    try {
      const written = (await this.#custom.patchNamespacedCustomObjectStatus(
        {
          group: ROLLOUT_GROUP,
          version: ROLLOUT_VERSION,
          plural: ROLLOUT_PLURAL,
          namespace: rollout.metadata?.namespace ?? '',
          name: rollout.metadata?.name ?? '',
          body: { status: next },
        },
        mergePatch(),
      )) as ModuleRollout;
      this.#options.metrics.apiWrites.inc({ resource: 'modulerollouts/status', verb: 'patch' });
      this.#written.set(`${rollout.metadata?.namespace ?? ''}/${rollout.metadata?.name ?? ''}`, {
        resourceVersion: Number(written.metadata?.resourceVersion ?? 0),
        status: written.status ?? next,
      });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (roomOf(before) !== roomOf(next))
      this.#options.requeuePods(deployment.metadata?.namespace ?? '', deployment.metadata?.name ?? '');
  }

  /** A rollout as its status records it (for hooks outside a reconcile: terminal rollouts, install taps). */
  #statusView(deployment: V1Deployment, rollout: ModuleRollout, status: ModuleRolloutStatus): RolloutView {
    const { strategy } = resolveStrategy(
      this.#options.config,
      deployment.metadata?.annotations,
      rollout.spec.strategy,
    );
    const kind = status.kind ?? 'update';
    return {
      namespace: deployment.metadata?.namespace ?? '',
      deployment,
      name: rollout.metadata?.name ?? '',
      stableRevision: status.stableRevision,
      targetRevision: rollout.spec.revision,
      replicas: status.replicas ?? deployment.spec?.replicas ?? 1,
      currentBatch: status.currentBatch ?? 0,
      batches: batchRecords(status.batches),
      strategy,
      confirmedBatch: rollout.spec.confirmedBatch ?? 0,
      kind,
      plan: status.plan ?? [],
      updatedAvailable: status.updatedAvailable ?? 0,
      unbatched: isUnbatched(kind, strategy, deployment),
      now: this.#options.clock.now(),
    };
  }

  /** The rollout a Deployment pod belongs to and the pod's place in it, for `holdInstall` taps. */
  rolloutOf(pod: V1Pod): PodRollout | undefined {
    const facts = this.#deploymentOf(pod);
    if (!facts) return undefined;
    const { deployment, target, sets } = facts;
    const rollout = this.#options.caches.moduleRollouts.get(
      rolloutName(deployment.metadata?.name ?? '', revisionOf(target)),
      deployment.metadata?.namespace,
    );
    if (!rollout) return undefined;
    const status = this.#freshStatus(rollout);
    return {
      view: this.#statusView(deployment, rollout, status),
      podRevision: podRevisionOf(pod, target, sets, status.stableRevision),
      pods: this.podsOf(deployment),
      targetPods: this.#options.caches.podIndex
        .byOwner(target.metadata?.uid ?? '')
        .filter((p) => !p.metadata?.deletionTimestamp),
    };
  }

  /** Every pod of a Deployment's ReplicaSets, those being deleted too (their modules may still serve). */
  podsOf(deployment: V1Deployment): V1Pod[] {
    const { caches } = this.#options;
    return replicaSetsOf(deployment, caches.replicaSets.list(deployment.metadata?.namespace)).flatMap((rs) =>
      caches.podIndex.byOwner(rs.metadata?.uid ?? ''),
    );
  }

  #event(
    deployment: V1Deployment,
    rollout: ModuleRollout,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const { events } = this.#options;
    events.record(deploymentRef(deployment), type, reason, message);
    const ref: ObjectRef = {
      apiVersion: `${ROLLOUT_GROUP}/${ROLLOUT_VERSION}`,
      kind: ROLLOUT_KIND,
      name: rollout.metadata?.name ?? '',
      namespace: rollout.metadata?.namespace,
      uid: rollout.metadata?.uid,
    };
    events.record(ref, type, reason, message);
    this.#options.logger.info(
      { deployment: `${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`, reason },
      message,
    );
  }
}

interface DeploymentFacts {
  readonly deployment: V1Deployment;
  readonly target: V1ReplicaSet;
  readonly sets: readonly V1ReplicaSet[];
}

function podRevisionOf(
  pod: V1Pod,
  target: V1ReplicaSet,
  sets: readonly V1ReplicaSet[],
  stable: number | undefined,
): PodRevision {
  const podRs = replicaSetOf(pod, sets);
  if (podRs === target) return 'target';
  return stable !== undefined && revisionOf(podRs) === stable ? 'stable' : 'other';
}

/** First installs and fast undos go straight through, and `Recreate` is never batched. */
function isUnbatched(kind: RolloutKind, strategy: Strategy, deployment: V1Deployment): boolean {
  return unbatchedReason(kind, strategy, deployment.spec?.strategy?.type) !== undefined;
}

function batchRecords(batches: readonly BatchStatus[] | undefined): BatchRecord[] {
  return (batches ?? []).map((b) => ({
    index: b.index,
    target: b.target,
    ...(b.startedAt ? { startedAt: Date.parse(b.startedAt) } : {}),
    ...(b.completedAt ? { completedAt: Date.parse(b.completedAt) } : {}),
  }));
}

/** What the install gate reads from a rollout's status: a change means held pods are worth asking again. */
function roomOf(status: ModuleRolloutStatus | undefined): string {
  return `${status?.currentBatch ?? 0}/${(status?.plan ?? []).join(',')}/${status?.phase ?? ''}/${status?.hold?.reason ?? ''}/${status?.releasedSlots ?? 0}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function conditions(
  previous: readonly RolloutCondition[],
  now: number,
  wanted: Partial<Record<RolloutCondition['type'], boolean>>,
  reason: string | undefined,
  message: string | undefined,
): RolloutCondition[] {
  const result: RolloutCondition[] = [];
  for (const type of ['Progressing', 'Holding', 'Completed', 'DeadlineExceeded'] as const) {
    const want = wanted[type];
    const old = previous.find((c) => c.type === type);
    if (want === undefined) {
      if (old) result.push(old);
      continue;
    }
    const status = want ? 'True' : 'False';
    const withReason =
      type === 'Holding' && want && reason ? { reason, ...(message ? { message } : {}) } : {};
    result.push({
      type,
      status,
      ...withReason,
      lastTransitionTime: old?.status === status ? old.lastTransitionTime : iso(now),
    });
  }
  return result;
}
