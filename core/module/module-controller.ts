import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Node,
  type V1Pod,
  type V1PodStatus,
} from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../clock.ts';
import { Controller, type ReconcileResult } from '../controller/controller.ts';
import { describeError, PluginError } from '../errors.ts';
import type { Hold } from '../hold.ts';
import type { Hooks, ModuleEvent } from '../hooks.ts';
import { nodeRef, podRef, type EventRecorder } from '../kube/event-recorder.ts';
import type { ClusterCaches } from '../kube/cluster-caches.ts';
import { isNodeReady, isPodReady } from '../kube/conditions.ts';
import type { Informer, InformerEvent } from '../kube/informer.ts';
import { parseLabelSelector } from '../kube/label-selector.ts';
import { isConflict, isNotFound } from '../kube/kube-errors.ts';
import { FIELD_MANAGER, serverSideApply } from '../kube/patch-options.ts';
import type { Logger } from '../logger.ts';
import { controllerObserver, type Metrics } from '../metrics.ts';
import type { PodRollout } from '../rollout/rollout-types.ts';
import type { BizModel } from '../tunnel/protocol/messages.ts';
import type { BizStatus, Tunnel, TunnelEvent } from '../tunnel/tunnel.ts';
import type { BaseRecord, BaseRegistry, LivenessSettings } from '../vnode/base-registry.ts';
import { BaseModules } from './base-modules.ts';
import { planBase, type BasePlan, type PodView } from './base-plan.ts';
import {
  DELETION_COST,
  SUPERSEDED_DELETION_COST,
  isAdmitted,
  isDisrupted,
  isModulePod,
  moduleKey,
  NOT_A_MODULE_POD,
  podModules,
  type ModuleSpec,
} from './module-pod.ts';
import type { PodIndex } from './pod-index.ts';
import {
  allocatablePods,
  capAdmission,
  capRejectionMessage,
  capRejectionStatus,
  isTerminal,
  MODULE_CAP_EXCEEDED,
} from '../scheduling/module-cap.ts';
import { foreignPodStatus, modulePodStatus } from './pod-status.ts';
import {
  RECORDS_FIELD_MANAGER,
  currentRecords,
  readRecords,
  recordAnnotations,
  sameRecords,
  type ActivationMode,
  type NodeRecords,
  type WrittenRecords,
} from './node-records.ts';
import { WorkloadIndex } from './workload-index.ts';

/** How long an admission may take to show in the pod cache before it is no longer counted. */
const ADMISSION_CACHE_LAG_MS = 30_000;

export interface ModuleControllerOptions {
  readonly kc: KubeConfig;
  /** The shared informer caches (pods, workloads), started by the orchestrator when leading. */
  readonly caches: ClusterCaches;
  /** watch.deploymentSelector: the Deployments managed as rollouts. */
  readonly deploymentSelector: string;
  readonly registry: BaseRegistry;
  readonly liveness: LivenessSettings;
  readonly tunnel: Tunnel;
  readonly hooks: Hooks;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly retentionMaxMs: number;
  /** The node cache of the VNode controller: node records live in its annotations. */
  readonly nodes: () => Informer<V1Node>;
  /** The rollout a Deployment pod belongs to (the rollout engine's view), for holdInstall taps. */
  readonly rolloutOf?: (pod: V1Pod) => PodRollout | undefined;
}

/**
 * Module pods become install / uninstall commands, and base reports become pod status (ARCHITECTURE §2.2).
 * Keyed by node: a base's pods, instances, claims and retentions are decided together in one pure plan
 * (base-plan.ts), then carried out in a crash-safe order — admissions and records are written before the
 * commands that depend on them, so a restarted controller never installs twice or uninstalls what is claimed.
 */
export class ModuleController {
  readonly #options: ModuleControllerOptions;
  readonly #core: CoreV1Api;
  readonly #controller: Controller;
  readonly #pods: PodIndex;
  readonly #caches: ClusterCaches;
  readonly #workloads: WorkloadIndex;
  readonly #bases = new Map<string, BaseModules>();
  /** Statuses last written, by pod uid, to skip writes that change nothing. */
  readonly #written = new Map<string, unknown>();
  /**
   * The records this controller last wrote per node, with the resourceVersion the write returned: a reconcile
   * that runs before the node cache shows the write must not plan from (and write back) older records — that
   * would drop a ledger entry just added, and leave what kmc installed on the base for ever.
   */
  readonly #recordsWritten = new Map<string, WrittenRecords>();
  readonly #baselineWanted = new Set<string>();
  /** Workload uid → bases keeping retentions for it. */
  readonly #retainedBy = new Map<string, Set<string>>();
  /**
   * Pods the gate admitted whose admission the pod cache does not show yet (uid → when): counted as admitted, so
   * a reconcile in between neither asks the gate again nor lets another pod take the same slot.
   */
  readonly #admittedAt = new Map<string, number>();
  /** One holdInstall decision at a time per workload: two bases must not both take the last slot of a batch. */
  readonly #gateLocks = new Map<string, Promise<unknown>>();
  /** Pods refused for the module cap (uid), until they are gone: refused once, whatever the cache shows meanwhile. */
  readonly #refused = new Set<string>();
  #leading = false;

  constructor(options: ModuleControllerOptions) {
    this.#options = options;
    const { kc, logger, metrics } = options;
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#controller = new Controller({
      name: 'module',
      logger: logger.child({ controller: 'module' }),
      reconcile: (key) => this.#reconcile(key),
      workers: 4,
      isQuiet: isConflict,
      observer: controllerObserver(metrics),
    });
    this.#caches = options.caches;
    this.#pods = options.caches.podIndex;
    options.caches.on('pod', (event, pod, previous) => {
      this.#onPod(event, pod, previous);
    });
    for (const kind of ['deployment', 'replicaSet', 'daemonSet', 'statefulSet'] as const) {
      options.caches.on(kind, (_event, object) => {
        this.#onWorkload(object);
      });
    }
    this.#workloads = new WorkloadIndex(
      options.caches,
      this.#pods,
      parseLabelSelector(options.deploymentSelector),
    );
  }

  get workloads(): WorkloadIndex {
    return this.#workloads;
  }

  get pods(): PodIndex {
    return this.#pods;
  }

  /** Admitted by the install gate: recorded on the pod, or admitted moments ago and not in the cache yet. */
  isAdmitted(pod: V1Pod): boolean {
    if (isAdmitted(pod)) return true;
    const uid = pod.metadata?.uid ?? '';
    const at = this.#admittedAt.get(uid);
    if (at === undefined) return false;
    if (this.#options.clock.now() - at < ADMISSION_CACHE_LAG_MS) return true;
    this.#admittedAt.delete(uid);
    return false;
  }

  /** What a base reported last (in memory; empty until it answers). */
  inventoryOf(nodeName: string): ReadonlyMap<string, BizStatus> {
    const record = this.#options.registry.byNodeName(nodeName);
    return record ? this.#base(record.baseId).inventory : new Map<string, BizStatus>();
  }

  /** How the base treats a second version of a module, as detected and recorded on its Node. */
  activationModeOf(nodeName: string): ActivationMode {
    return this.#recordsOf(nodeName, this.#options.nodes().get(nodeName)).mode;
  }

  /**
   * The bases that serve a workload now (ARCHITECTURE §3.2's availability): Ready bases where an admitted pod of
   * the workload, or a retention it keeps, has its modules ACTIVATED. A base counts once, whatever it runs.
   */
  servingBases(workloadUid: string, pods: readonly V1Pod[]): Set<string> {
    const serving = new Set<string>();
    const activated = (nodeName: string, keys: readonly string[]) => {
      const inventory = this.inventoryOf(nodeName);
      return keys.length > 0 && keys.every((key) => inventory.get(key)?.state === 'ACTIVATED');
    };
    const ready = (nodeName: string) =>
      isNodeReady(this.#options.nodes().get(nodeName)) &&
      this.#options.registry.byNodeName(nodeName) !== undefined;
    for (const pod of pods) {
      const nodeName = pod.spec?.nodeName;
      if (!nodeName || serving.has(nodeName) || !this.isAdmitted(pod) || !ready(nodeName)) continue;
      const keys = podModules(pod).modules.map((m) => moduleKey(m.bizName, m.bizVersion));
      if (activated(nodeName, keys)) serving.add(nodeName);
    }
    for (const nodeName of this.#retainedBy.get(workloadUid) ?? []) {
      if (serving.has(nodeName) || !ready(nodeName)) continue;
      const keys = this.#recordsOf(nodeName, this.#options.nodes().get(nodeName))
        .retentions.filter((r) => r.workload.uid === workloadUid)
        .map((r) => moduleKey(r.bizName, r.bizVersion));
      if (keys.some((key) => activated(nodeName, [key]))) serving.add(nodeName);
    }
    return serving;
  }

  /** Tunnel events reach every replica; only the leader acts on them. */
  onTunnelEvent(event: TunnelEvent): void {
    const now = this.#options.clock.now();
    const record = this.#options.registry.get(event.baseId);
    if (!record) return;
    const modules = this.#base(event.baseId);
    switch (event.type) {
      case 'heartbeat':
        return;
      case 'health':
        return;
      case 'baselineQuery':
        // A new base process: nothing it had is there any more, until it installs its baseline.
        modules.resetForNewProcess();
        this.#baselineWanted.add(record.nodeName);
        break;
      case 'inventory':
        // The periodic module list usually repeats what kmc knows; only news deserves a reconcile.
        if (!modules.applyInventory(event, now)) return;
        break;
      case 'operation':
        modules.applyOperation(event, now);
        void this.#observeOperation(
          record,
          event.command,
          event.bizName,
          event.bizVersion,
          event.success || event.code === 'NOT_FOUND_BIZ' || event.code === 'REPEAT_BIZ',
          event.message,
        );
        break;
      case 'batchInstall':
        modules.applyBatchInstall(event, now);
        break;
    }
    this.#enqueue(record.nodeName);
  }

  /** A base came (back) online: ask for its module list now rather than at the next poll. */
  onBaseOnline(record: BaseRecord): void {
    if (!this.#leading) return;
    this.#options.tunnel.queryAllBiz(record.baseId).catch(() => undefined);
    this.#enqueue(record.nodeName);
  }

  /** Called when this replica leads, once the shared caches have synced. */
  startLeading(): void {
    this.#leading = true;
    this.#controller.start();
    for (const record of this.#options.registry.all()) {
      this.#enqueue(record.nodeName);
      this.#options.tunnel.queryAllBiz(record.baseId).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.#leading = false;
    await this.#controller.stop();
  }

  #base(baseId: string): BaseModules {
    let modules = this.#bases.get(baseId);
    if (!modules) {
      modules = new BaseModules();
      this.#bases.set(baseId, modules);
    }
    return modules;
  }

  #enqueue(nodeName: string | undefined): void {
    if (this.#leading && nodeName) this.#controller.enqueue(nodeName);
  }

  #onPod(event: InformerEvent, pod: V1Pod, previous: V1Pod | undefined): void {
    if (event === 'delete' || isAdmitted(pod)) this.#admittedAt.delete(pod.metadata?.uid ?? '');
    if (event === 'delete') this.#refused.delete(pod.metadata?.uid ?? '');
    const previousNode = previous?.spec?.nodeName;
    const node = pod.spec?.nodeName;
    if (node && this.#options.registry.byNodeName(node)) this.#enqueue(node);
    if (previousNode && previousNode !== node && this.#options.registry.byNodeName(previousNode))
      this.#enqueue(previousNode);
    // A pod turning Ready (or going) can release retentions its workload holds on other bases (the workload
    // now has all its Ready pods). Only those bases: looking again at every base of the workload on each pod
    // update would make every status write re-plan all of them.
    const counted = (p: V1Pod | undefined) => isPodReady(p) && !p?.metadata?.deletionTimestamp;
    if (event === 'add' || (event === 'update' && counted(previous) === counted(pod))) return;
    const workload = this.#workloads.ownerOf(pod);
    if (workload) for (const retaining of this.#retainedBy.get(workload.uid) ?? []) this.#enqueue(retaining);
  }

  /**
   * A workload changed (a new ReplicaSet, a Deployment's status or template): look again at the bases that hold
   * its pods (their current revision may have changed) and those that keep retentions for it.
   */
  /** Looks again at every base with a pod of this Deployment (the rollout engine changed what may install). */
  requeueDeployment(namespace: string, name: string): void {
    const deployment = this.#caches.deployments.get(name, namespace);
    if (!deployment) return;
    this.#onWorkload(deployment);
    // Its pods belong to its ReplicaSets, not to it.
    for (const rs of this.#caches.replicaSets.list(namespace)) {
      if (rs.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === deployment.metadata?.uid))
        for (const pod of this.#pods.byOwner(rs.metadata.uid ?? '')) this.#enqueue(pod.spec?.nodeName);
    }
  }

  #onWorkload(object: KubernetesObject): void {
    const uid = object.metadata?.uid;
    if (!this.#leading || !uid) return;
    const owners = [
      uid,
      ...(object.metadata?.ownerReferences ?? []).filter((ref) => ref.controller).map((ref) => ref.uid),
    ];
    for (const owner of owners) {
      for (const retaining of this.#retainedBy.get(owner) ?? []) this.#enqueue(retaining);
      for (const pod of this.#pods.byOwner(owner)) this.#enqueue(pod.spec?.nodeName);
    }
  }

  /** Which bases keep retentions for which workload, from the records each reconcile wrote or read. */
  #indexRetentions(nodeName: string, records: NodeRecords): void {
    for (const [workload, nodes] of this.#retainedBy) {
      nodes.delete(nodeName);
      if (nodes.size === 0) this.#retainedBy.delete(workload);
    }
    for (const retention of records.retentions) {
      const nodes = this.#retainedBy.get(retention.workload.uid) ?? new Set<string>();
      nodes.add(nodeName);
      this.#retainedBy.set(retention.workload.uid, nodes);
    }
  }

  async #reconcile(nodeName: string): Promise<ReconcileResult | undefined> {
    const { registry, clock, liveness: settings } = this.#options;
    const record = registry.byNodeName(nodeName);
    if (!record) return undefined;
    const node = this.#options.nodes().get(nodeName);
    const now = clock.now();
    const modules = this.#base(record.baseId);
    modules.expire(now);
    const liveness = registry.liveness(record, now, settings);
    const baseAlive = liveness.state === 'alive';
    const baseTrusted = record.heardSinceStart;
    const records = this.#recordsOf(nodeName, node);

    // A pod refused for the module cap is done: nothing of it runs, nothing is to be decided for it.
    let views = this.#pods
      .onNode(nodeName)
      .map((pod) => this.#view(pod))
      .filter((view) => view.admitted || (!isTerminal(view.pod) && !this.#refused.has(view.uid)));
    const gate = new Map<string, Hold | undefined>();
    if (baseAlive && baseTrusted) {
      // As the kubelet admits a pod against its allocatable pods before anything else: pods bound beyond the
      // module cap (two schedulers, concurrent binds) are refused before the install gate is asked.
      views = await this.#admitUnderCap(views, record, node);
      for (const view of views) {
        if (view.deleting || view.admitted || !view.isModulePod || !view.parsed.ok) continue;
        gate.set(view.uid, await this.#askGate(view, record, modules));
      }
    }

    if (this.#baselineWanted.delete(nodeName) && baseAlive) {
      await this.#sendBaseline(record, views, records, modules, node);
    }

    const plan = planBase({
      now,
      baseAlive,
      baseGone:
        liveness.state === 'silent' || liveness.state === 'deactivated' || liveness.state === 'replaced',
      baseTrusted,
      inventoryKnown: modules.inventoryCurrent,
      pods: views,
      inventory: modules.inventory,
      inFlight: modules.inFlight,
      recentlyGone: modules.recentlyGone,
      uninstallFailedAt: modules.uninstallFailedAt,
      records,
      facts: this.#workloads,
      gate,
      retentionMaxMs: this.#options.retentionMaxMs,
    });
    this.#options.logger.debug(
      {
        node: nodeName,
        alive: baseAlive,
        trusted: baseTrusted,
        inventoryKnown: modules.inventoryCurrent,
        inventory: [...modules.inventory.values()].map(
          (s) => `${s.bizName}:${s.bizVersion}=${s.state ?? '?'}`,
        ),
        inFlight: [...modules.inFlight.keys()],
        pods: views.map(
          (v) =>
            `${v.pod.metadata?.name ?? ''}${v.deleting ? '(deleting)' : ''}${v.admitted ? '' : '(unadmitted)'}`,
        ),
        admit: plan.admit.length,
        installs: plan.installs.map((i) => i.key),
        uninstalls: plan.uninstalls.map((u) => u.key),
        finalize: plan.finalize.map((v) => v.pod.metadata?.name),
        retentions: plan.records.retentions.length,
        // What kmc may uninstall as its own: the first thing to read when an instance stays on a base.
        ledger: Object.keys(plan.records.ledger),
        notes: plan.notes.map((n) => `${n.reason}: ${n.message}`),
      },
      'base plan',
    );
    await this.#execute(plan, record, modules, records, node, now, baseAlive, views);
    this.#indexRetentions(nodeName, plan.records);
    return plan.recheckAfterMs === undefined ? undefined : { requeueAfterMs: plan.recheckAfterMs };
  }

  /** Refuses the pods bound beyond the base's module cap (its allocatable pods); returns the others. */
  async #admitUnderCap(
    views: readonly PodView[],
    record: BaseRecord,
    node: V1Node | undefined,
  ): Promise<PodView[]> {
    const cap = allocatablePods(node);
    if (cap === undefined) return [...views];
    const slots = views
      .filter((view) => view.isModulePod && view.parsed.ok)
      .map((view) => ({
        uid: view.uid,
        name: view.pod.metadata?.name ?? '',
        admitted: view.admitted,
        deleting: view.deleting,
        terminal: isTerminal(view.pod),
        createdAt: new Date(view.pod.metadata?.creationTimestamp ?? 0).getTime(),
      }));
    const { rejected, used } = capAdmission(slots, cap);
    if (rejected.length === 0) return [...views];
    const refused = new Set(rejected.map((slot) => slot.uid));
    const now = new Date(this.#options.clock.now());
    const message = capRejectionMessage(record.baseId, record.nodeName, used, cap);
    for (const view of views) {
      if (!refused.has(view.uid)) continue;
      await this.#applyStatus(view.pod, capRejectionStatus(view.pod, now, message));
      this.#refused.add(view.uid);
      this.#written.delete(view.uid);
      this.#options.events.record(podRef(view.pod), 'Warning', MODULE_CAP_EXCEEDED, message);
      this.#options.logger.warn(
        {
          base: record.baseId,
          pod: `${view.pod.metadata?.namespace ?? ''}/${view.pod.metadata?.name ?? ''}`,
          cap,
        },
        'pod refused: the base is at its module cap',
      );
    }
    return views.filter((view) => !refused.has(view.uid));
  }

  #view(pod: V1Pod): PodView {
    const deletion = pod.metadata?.deletionTimestamp;
    return {
      pod,
      uid: pod.metadata?.uid ?? '',
      isModulePod: isModulePod(pod),
      parsed: podModules(pod),
      admitted: this.isAdmitted(pod),
      deleting: deletion !== undefined,
      deletionDeadline: deletion ? new Date(deletion).getTime() : undefined,
      disrupted: isDisrupted(pod),
      workload: this.#workloads.ownerOf(pod),
      currentRevision: this.#workloads.isCurrentRevision(pod),
    };
  }

  async #askGate(view: PodView, record: BaseRecord, modules: BaseModules): Promise<Hold | undefined> {
    const key = view.workload?.uid ?? view.uid;
    const previous = this.#gateLocks.get(key) ?? Promise.resolve();
    const decision = previous.then(async () => {
      const hold = await this.#decideGate(view, record, modules);
      // Counted as admitted from now on, before the next decision for this workload runs.
      if (!hold) this.#admittedAt.set(view.uid, this.#options.clock.now());
      return hold;
    });
    const settled = decision.catch(() => undefined);
    this.#gateLocks.set(key, settled);
    void settled.then(() => {
      if (this.#gateLocks.get(key) === settled) this.#gateLocks.delete(key);
    });
    return decision;
  }

  async #decideGate(view: PodView, record: BaseRecord, modules: BaseModules): Promise<Hold | undefined> {
    try {
      return await this.#options.hooks.holdInstall.promise(view.pod, {
        base: record,
        node: this.#options.nodes().get(record.nodeName),
        inventory: modules.inventory,
        rollout: view.workload?.kind === 'Deployment' ? this.#options.rolloutOf?.(view.pod) : undefined,
        modules: view.parsed.modules.map((m) => ({
          bizName: m.bizName,
          bizVersion: m.bizVersion,
          onBase: modules.inventory.get(moduleKey(m.bizName, m.bizVersion)),
        })),
      });
    } catch (error) {
      // A failing gate holds the pod (safe side) and says whose code failed.
      const message = error instanceof PluginError ? error.message : describeError(error);
      this.#options.metrics.pluginErrors.inc({
        plugin: error instanceof PluginError ? error.pluginName : 'unknown',
        hook: 'holdInstall',
      });
      return { reason: 'PluginError', message, recheckAfterMs: 10_000 };
    }
  }

  async #execute(
    plan: BasePlan,
    record: BaseRecord,
    modules: BaseModules,
    before: NodeRecords,
    node: V1Node | undefined,
    now: number,
    baseAlive: boolean,
    views: readonly PodView[],
  ): Promise<void> {
    const { tunnel, hooks, metrics, events, logger } = this.#options;
    // 1. The gate's decisions are on the pods before anything is installed for them.
    const admitted = new Set(plan.admit.map((view) => view.uid));
    // Written as "Installing" right away when this reconcile installs for the pod: one status write, not two.
    const installing = new Set(plan.installs.map((install) => install.key));
    for (const view of plan.admit) {
      await this.#writeStatus(view, record, modules, undefined, undefined, true, installing);
    }
    for (const { pod, hold } of plan.hold) {
      await this.#writeStatus(pod, record, modules, hold, undefined, false);
    }
    // 2. Ledger and retentions are on the Node before installs or deletions rely on them.
    if (!sameRecords(before, plan.records)) await this.#writeRecords(record.nodeName, plan.records, node);
    // 3. Commands.
    for (const uninstall of plan.uninstalls) {
      const event = this.#moduleEvent(record, uninstall.spec, uninstall.pod?.pod);
      await hooks.beforeUninstall.promise(event);
      modules.sent(uninstall.key, 'uninstall', now);
      try {
        await tunnel.uninstallBiz(record.baseId, bizModel(uninstall.spec));
        metrics.uninstalls.inc({ result: 'sent' });
        logger.info(
          { base: record.baseId, module: uninstall.key, reason: uninstall.reason },
          'uninstall sent',
        );
      } catch (error) {
        modules.inFlight.delete(uninstall.key);
        throw error;
      }
    }
    for (const install of plan.installs) {
      const event = this.#moduleEvent(record, install.spec, install.pod?.pod);
      await hooks.beforeInstall.promise(event);
      modules.sent(install.key, 'install', now);
      try {
        await tunnel.installBiz(record.baseId, bizModel(install.spec));
        metrics.installs.inc({ result: 'sent' });
        logger.info({ base: record.baseId, module: install.key }, 'install sent');
        if (install.pod) {
          events.record(
            podRef(install.pod.pod),
            'Normal',
            'Installing',
            `installing ${install.key} on base ${record.baseId}`,
          );
        }
      } catch (error) {
        modules.inFlight.delete(install.key);
        throw error;
      }
    }
    // 4. Deleted pods whose termination is complete: we are their kubelet.
    for (const view of plan.finalize) await this.#finalize(view);
    // 5. Status: superseded pods first, so the ReplicaSet sees the old pod NotReady before the new one Ready.
    if (baseAlive) {
      const ordered = [...views].sort(
        (a, b) => Number(plan.superseded.has(b.uid)) - Number(plan.superseded.has(a.uid)),
      );
      for (const view of ordered) {
        if (view.deleting || admitted.has(view.uid) || plan.hold.some((h) => h.pod.uid === view.uid))
          continue;
        if (!view.isModulePod) {
          await this.#writeForeign(view);
          continue;
        }
        const held = !view.admitted ? heldOf(view) : undefined;
        await this.#writeStatus(view, record, modules, held, plan.superseded.get(view.uid), view.admitted);
      }
    }
    // 6. Events.
    for (const note of plan.notes) {
      events.record(
        note.about === 'node' ? nodeRef(record.nodeName) : podRef(note.about.pod),
        note.type,
        note.reason,
        note.message,
      );
    }
  }

  async #writeStatus(
    view: PodView,
    record: BaseRecord,
    modules: BaseModules,
    hold: Hold | undefined,
    superseded: { reason: 'Superseded' | 'BizDeactivate'; message: string } | undefined,
    admitted: boolean,
    planned: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    const { pod } = view;
    const reports = new Map<string, BizStatus | undefined>();
    const installing = new Set<string>();
    for (const module of view.parsed.modules) {
      const key = moduleKey(module.bizName, module.bizVersion);
      reports.set(module.bizName, modules.inventory.get(key));
      if (modules.inFlight.get(key)?.op === 'install' || planned.has(key)) installing.add(module.bizName);
    }
    const base = modulePodStatus({
      pod,
      now: new Date(this.#options.clock.now()),
      baseIP: record.localIP,
      modules: view.parsed.modules,
      invalid: view.parsed.ok ? [] : view.parsed.invalid,
      admitted,
      hold,
      reports,
      installing,
      superseded,
    });
    const status = this.#options.hooks.podStatus.call(base, pod, {
      base: record,
      modules: view.parsed.modules.map((m) => ({
        container: m.bizName,
        bizVersion: m.bizVersion,
        status: reports.get(m.bizName),
      })),
    });
    if (!view.parsed.ok) {
      const first = view.parsed.invalid[0];
      const shown = pod.status?.containerStatuses?.some((c) => c.state?.waiting?.reason === first?.reason);
      if (first && !shown)
        this.#options.events.record(
          podRef(pod),
          'Warning',
          first.reason,
          `${first.container}: ${first.message}`,
        );
    }
    for (const [name, report] of reports) {
      const previous = pod.status?.containerStatuses?.find((c) => c.name === name);
      if (report?.state === 'BROKEN' && previous?.state?.waiting?.message !== report.message) {
        this.#options.events.record(
          podRef(pod),
          'Warning',
          'InstallFailed',
          `${name}:${report.bizVersion} failed on base ${record.baseId}: ${report.reason ?? ''} ${report.message ?? ''}`.trim(),
        );
      }
    }
    await this.#applyStatus(pod, status);
    if (status.phase === 'Failed') {
      // A plugin failed the pod (biz-deactivate with failPod): as its kubelet, kmc removes it; its owner
      // replaces it, and its deactivated module, now unclaimed, is uninstalled.
      this.#options.events.record(
        podRef(pod),
        'Normal',
        'FailedPodRemoved',
        status.message ?? 'pod failed: removed',
      );
      await this.#finalize(view);
      return;
    }
    if (superseded && pod.metadata?.annotations?.[DELETION_COST] !== SUPERSEDED_DELETION_COST) {
      await this.#setDeletionCost(pod);
    }
  }

  async #applyStatus(pod: V1Pod, status: V1PodStatus): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const shape = comparable(status);
    if (
      isDeepStrictEqual(this.#written.get(uid), shape) &&
      isDeepStrictEqual(comparable(pod.status ?? {}, status), shape)
    )
      return;
    try {
      await this.#core.patchNamespacedPodStatus(
        {
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          body: {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid },
            status,
          },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        serverSideApply(),
      );
      this.#options.metrics.apiWrites.inc({ resource: 'pods/status', verb: 'apply' });
      this.#written.set(uid, shape);
      const reportAt = this.#bases.get(
        this.#options.registry.byNodeName(pod.spec?.nodeName ?? '')?.baseId ?? '',
      )?.lastReportAt;
      if (reportAt)
        this.#options.metrics.reportToStatus.observe((this.#options.clock.now() - reportAt) / 1000);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }

  async #setDeletionCost(pod: V1Pod): Promise<void> {
    try {
      await this.#core.patchNamespacedPod(
        {
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          body: {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              name: pod.metadata?.name,
              annotations: { [DELETION_COST]: SUPERSEDED_DELETION_COST },
            },
          },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        serverSideApply(),
      );
      this.#options.metrics.apiWrites.inc({ resource: 'pods', verb: 'apply' });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async #writeForeign(view: PodView): Promise<void> {
    const { pod } = view;
    if (pod.status?.conditions?.some((c) => c.type === NOT_A_MODULE_POD && c.status === 'True')) return;
    const status = foreignPodStatus(pod, new Date(this.#options.clock.now()));
    await this.#applyStatus(pod, status);
    this.#options.events.record(
      podRef(pod),
      'Warning',
      'NotAModulePod',
      `pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''} landed on a Koupleless base but is not a module pod: not run. ` +
        'Give DaemonSets the node affinity "type NotIn [virtual-kubelet]".',
    );
  }

  async #finalize(view: PodView): Promise<void> {
    const { pod } = view;
    try {
      await this.#core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        // In the body: client-node 2.0 does not send a gracePeriodSeconds=0 given as a parameter (checked on
        // the real API server: the pod stayed Terminating). The UID precondition: a pod recreated under the
        // same name (StatefulSet) is not ours to delete.
        body: { gracePeriodSeconds: 0, preconditions: { uid: view.uid } },
      });
      this.#options.metrics.apiWrites.inc({ resource: 'pods', verb: 'delete' });
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
    this.#written.delete(view.uid);
  }

  /** The cached node's records, or what this controller wrote last when the cache has not caught up with it yet. */
  #recordsOf(nodeName: string, node: V1Node | undefined): NodeRecords {
    const { records, caughtUp } = currentRecords(node, this.#recordsWritten.get(nodeName));
    if (caughtUp) this.#recordsWritten.delete(nodeName);
    return records;
  }

  async #writeRecords(nodeName: string, records: NodeRecords, node: V1Node | undefined): Promise<void> {
    if (!node) return;
    const written = await this.#core.patchNode(
      {
        name: nodeName,
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: nodeName, annotations: recordAnnotations(records) },
        },
        fieldManager: RECORDS_FIELD_MANAGER,
        force: true,
      },
      serverSideApply(),
    );
    this.#options.metrics.apiWrites.inc({ resource: 'nodes', verb: 'apply' });
    this.#recordsWritten.set(nodeName, {
      resourceVersion: Number(written.metadata?.resourceVersion ?? 0),
      records: readRecords(written),
    });
  }

  /**
   * The answer to a base's queryBaseline: every instance with a claim on it (admitted pods, retentions), the
   * current version last so it is the one left active where the base switches.
   */
  async #sendBaseline(
    record: BaseRecord,
    views: readonly PodView[],
    records: NodeRecords,
    modules: BaseModules,
    node: V1Node | undefined,
  ): Promise<void> {
    const items = new Map<string, { spec: ModuleSpec; current: boolean }>();
    for (const view of views) {
      if (view.deleting || !view.admitted || !view.parsed.ok) continue;
      for (const spec of view.parsed.modules) {
        items.set(moduleKey(spec.bizName, spec.bizVersion), { spec, current: view.currentRevision });
      }
    }
    for (const retention of records.retentions) {
      const key = moduleKey(retention.bizName, retention.bizVersion);
      if (!items.has(key)) items.set(key, { spec: retention, current: false });
    }
    const ordered = [...items.entries()].sort(([, a], [, b]) => Number(a.current) - Number(b.current));
    const now = this.#options.clock.now();
    const ledger = { ...records.ledger };
    for (const [key] of ordered) ledger[key] = now;
    if (ordered.length > 0) await this.#writeRecords(record.nodeName, { ...records, ledger }, node);
    modules.baselineUrls.clear();
    for (const [key, { spec }] of ordered) {
      modules.baselineUrls.set(spec.bizUrl, key);
      modules.sent(key, 'install', now);
    }
    await this.#options.tunnel.sendBaseline(
      record.baseId,
      ordered.map(([, { spec }]) => bizModel(spec)),
    );
    this.#options.logger.info({ base: record.baseId, modules: ordered.map(([key]) => key) }, 'baseline sent');
  }

  #moduleEvent(record: BaseRecord, spec: ModuleSpec, pod: V1Pod | undefined, message?: string): ModuleEvent {
    return { base: record, ...spec, pod, ...(message !== undefined ? { message } : {}) };
  }

  async #observeOperation(
    record: BaseRecord,
    command: 'installBiz' | 'uninstallBiz',
    bizName: string,
    bizVersion: string,
    success: boolean,
    message: string,
  ): Promise<void> {
    if (!this.#leading) return;
    const { hooks, metrics, logger } = this.#options;
    const event = this.#moduleEvent(record, { bizName, bizVersion, bizUrl: '' }, undefined, message);
    try {
      if (command === 'installBiz') {
        metrics.installs.inc({ result: success ? 'succeeded' : 'failed' });
        await (success ? hooks.afterInstall : hooks.installFailed).promise(event);
      } else {
        metrics.uninstalls.inc({ result: success ? 'succeeded' : 'failed' });
        if (success) await hooks.afterUninstall.promise(event);
      }
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'an install / uninstall observer failed');
    }
  }
}

function heldOf(view: PodView): Hold | undefined {
  const condition = view.pod.status?.conditions?.find(
    (c) => c.type === 'koupleless.io/InstallHeld' && c.status === 'True',
  );
  return condition
    ? { reason: condition.reason ?? 'InstallHeld', message: condition.message ?? '' }
    : undefined;
}

function bizModel(spec: ModuleSpec): BizModel {
  return { bizName: spec.bizName, bizVersion: spec.bizVersion, bizUrl: spec.bizUrl };
}

/** The part of a status that matters for "did anything change" (times of unchanged conditions are kept anyway). */
function comparable(status: V1PodStatus, like?: V1PodStatus): unknown {
  const types = new Set((like ?? status).conditions?.map((c) => c.type));
  return {
    phase: status.phase,
    reason: status.reason,
    conditions: (status.conditions ?? [])
      .filter((c) => types.has(c.type))
      .map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? '', message: c.message ?? '' }))
      .sort((a, b) => a.type.localeCompare(b.type)),
    // Times are left out: the API server keeps whole seconds, so they would never compare equal.
    containers: (status.containerStatuses ?? []).map((c) => ({
      name: c.name,
      ready: c.ready,
      running: c.state?.running !== undefined,
      waiting: c.state?.waiting
        ? `${c.state.waiting.reason ?? ''}|${c.state.waiting.message ?? ''}`
        : undefined,
      terminated: c.state?.terminated
        ? `${c.state.terminated.reason ?? ''}|${c.state.terminated.message ?? ''}`
        : undefined,
    })),
    podIP: status.podIP,
  };
}
