import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import type { Clock } from '../clock.ts';
import { PluginError } from '../errors.ts';
import { Controller, type ReconcileResult } from '../controller/controller.ts';
import type { Hooks, NodeCandidate, ScoredNode } from '../hooks.ts';
import type { ClusterCaches } from '../kube/cluster-caches.ts';
import { podRef, type EventRecorder } from '../kube/event-recorder.ts';
import type { InformerEvent } from '../kube/informer.ts';
import { preferredAffinityWeight } from '../kube/node-affinity.ts';
import { isConflict, isNotFound } from '../kube/kube-errors.ts';
import { strategicMergePatch } from '../kube/patch-options.ts';
import { ScopedInformers } from '../kube/scoped-informers.ts';
import type { Logger } from '../logger.ts';
import { isModulePod, podModules } from '../module/module-pod.ts';
import { readRecords, type WorkloadRef } from '../module/node-records.ts';
import type { WorkloadIndex } from '../module/workload-index.ts';
import { revisionOf } from '../rollout/deployment-revisions.ts';
import { rolloutName } from '../rollout/module-rollout.ts';
import type { BizStatus } from '../tunnel/tunnel.ts';
import { allocatablePods, isTerminal } from './module-cap.ts';
import { filterBases, unavailableMessage, type BaseSlots } from './node-fit.ts';
import { pickBest, scoreCandidates } from './node-score.ts';
import { placementHints, type BaseModules } from './placement-hints.ts';
import { preferredPodAffinity } from './pod-affinity-score.ts';
import { policySource, resolvePolicy, type SchedulingPolicy } from './policy.ts';
import { topologySpread } from './topology-spread.ts';

/** The field manager of the scheduler's status writes (the PodScheduled condition of pods it cannot place). */
export const SCHEDULER_FIELD_MANAGER = 'kmc-scheduler';

/** A bind of this scheduler the pod cache does not show yet is counted for this long at most. */
const ASSUMED_MS = 30_000;

export interface ModuleSchedulerOptions {
  readonly kc: KubeConfig;
  /** watch.namespaces: the pods it schedules (empty: all). */
  readonly namespaces: readonly string[];
  /** Pods whose spec.schedulerName is this one are its to bind. */
  readonly schedulerName: string;
  /** The policy of the config; annotations override it per Deployment or pod. */
  readonly policy: SchedulingPolicy;
  /** A pod that fits nowhere is tried again after this long, besides whenever nodes or pods change. */
  readonly retryMs: number;
  readonly hooks: Hooks;
  /** Records Events as the scheduler (their source component). */
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The shared caches: the pods bound to bases, Deployments. */
  readonly caches: ClusterCaches;
  readonly workloads: WorkloadIndex;
  /** kmc's nodes (this env's bases). */
  readonly nodes: () => readonly V1Node[];
  readonly onNode: (listener: (event: InformerEvent, node: V1Node) => void) => void;
  /** What a base reports running, by `name:version`. */
  readonly inventoryOf: (nodeName: string) => ReadonlyMap<string, BizStatus>;
  readonly attempts?: Counter<'result'>;
}

/**
 * The scheduler plugin's I/O: watches the unbound pods whose `spec.schedulerName` is its name, decides with the
 * pure filter (node-fit.ts) and score (node-score.ts) and the `filterNodes` / `scoreNodes` hooks, and binds
 * through the Binding API (`pods/binding`), as kube-scheduler does. One pod at a time, counting its own binds
 * until the pod cache shows them, so two decisions never take the same last slot. A pod that fits nowhere stays
 * Pending with PodScheduled=False (Unschedulable) and a FailedScheduling Event that says why, and is tried again
 * when nodes or pods change. Runs on the leader only.
 */
export class ModuleScheduler {
  readonly #options: ModuleSchedulerOptions;
  readonly #core: CoreV1Api;
  readonly #pending: ScopedInformers<V1Pod>;
  readonly #controller: Controller;
  /** Pods bound by this scheduler, by key, until the pod cache shows them bound. */
  readonly #assumed = new Map<
    string,
    { readonly pod: V1Pod; readonly nodeName: string; readonly at: number }
  >();
  /** Pods that fit nowhere at their last try: tried again when nodes or pods change. */
  readonly #unschedulable = new Set<string>();
  /** The shape of each node that matters to placement, to tell a change from a heartbeat. */
  readonly #nodeShapes = new Map<string, string>();
  #running = false;

  constructor(options: ModuleSchedulerOptions) {
    this.#options = options;
    const { kc, schedulerName, logger } = options;
    this.#core = kc.makeApiClient(CoreV1Api);
    const core = this.#core;
    const fieldSelector = `spec.schedulerName=${schedulerName},spec.nodeName=`;
    this.#pending = new ScopedInformers<V1Pod>(options.namespaces, (namespace) => ({
      kc,
      path: namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods',
      list: (): Promise<KubernetesListObject<V1Pod>> =>
        namespace
          ? core.listNamespacedPod({ namespace, fieldSelector })
          : core.listPodForAllNamespaces({ fieldSelector }),
      fieldSelector,
      logger,
      onEvent: (event, pod) => {
        const key = keyOf(pod);
        if (event === 'delete') this.#unschedulable.delete(key);
        else if (this.#running) this.#controller.enqueue(key);
      },
    }));
    this.#controller = new Controller({
      name: 'scheduler',
      logger: logger.child({ controller: 'scheduler' }),
      // One decision at a time: each counts the binds of the one before.
      workers: 1,
      isQuiet: isConflict,
      reconcile: (key) => this.#schedule(key),
    });
    options.caches.on('pod', (event, pod, previous) => {
      this.#onBoundPod(event, pod, previous);
    });
    options.onNode((event, node) => {
      this.#onNode(event, node);
    });
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.#pending.start();
    await this.#pending.synced();
    this.#controller.start();
    for (const pod of this.#pending.list()) this.#controller.enqueue(keyOf(pod));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#controller.stop();
    await this.#pending.stop();
  }

  /** A bound pod changed: it may free a slot or change what the (anti-)affinity rules see. */
  #onBoundPod(event: InformerEvent, pod: V1Pod, previous: V1Pod | undefined): void {
    const key = keyOf(pod);
    if (event === 'delete' || pod.spec?.nodeName) this.#assumed.delete(key);
    if (!this.#running || this.#unschedulable.size === 0) return;
    const freed =
      event === 'delete' ||
      (isTerminal(pod) && (!previous || !isTerminal(previous))) ||
      pod.spec?.nodeName !== previous?.spec?.nodeName ||
      JSON.stringify(pod.metadata?.labels ?? {}) !== JSON.stringify(previous?.metadata?.labels ?? {}) ||
      (pod.metadata?.deletionTimestamp !== undefined) !==
        (previous?.metadata?.deletionTimestamp !== undefined);
    if (freed) this.#retryUnschedulable();
  }

  /** A node changed in a way that matters to placement (heartbeats alone do not). */
  #onNode(event: InformerEvent, node: V1Node): void {
    const name = node.metadata?.name ?? '';
    const shape = event === 'delete' ? undefined : placementShape(node);
    if (this.#nodeShapes.get(name) === shape) return;
    if (shape === undefined) this.#nodeShapes.delete(name);
    else this.#nodeShapes.set(name, shape);
    if (this.#running) this.#retryUnschedulable();
  }

  #retryUnschedulable(): void {
    for (const key of this.#unschedulable) this.#controller.enqueue(key);
  }

  async #schedule(key: string): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const pod = this.#pending.get(name, namespace);
    if (!pod || pod.spec?.nodeName || pod.metadata?.deletionTimestamp || this.#assumed.has(key)) {
      this.#unschedulable.delete(key);
      return undefined;
    }
    try {
      return await this.#place(key, pod);
    } catch (error) {
      // A failing filterNodes / scoreNodes tap: the pod waits, and users see whose code failed.
      if (!(error instanceof PluginError)) throw error;
      this.#options.attempts?.inc({ result: 'error' });
      return this.#unplaceable(pod, `scheduling failed: ${error.message}`, true);
    }
  }

  async #place(key: string, pod: V1Pod): Promise<ReconcileResult | undefined> {
    const { hooks, logger } = this.#options;
    if (!isModulePod(pod)) {
      return this.#unplaceable(
        pod,
        'not a module pod (label module-controller.koupleless.io/component=module): the koupleless scheduler ' +
          'places module pods on Koupleless bases only; use the default scheduler for other pods.',
        false,
      );
    }
    const bases = this.#bases();
    const { fits, misfits } = filterBases(pod, bases);
    const candidates: NodeCandidate[] = fits.map((base) => ({
      node: base.node,
      modules: base.pods.length,
      cap: base.cap ?? Number.POSITIVE_INFINITY,
    }));
    const byName = new Map(candidates.map((c) => [nodeName(c.node), c]));
    // A tap may only rule bases out: a base it adds (or invents) is ignored.
    const filtered =
      hooks.filterNodes.taps.length > 0 && candidates.length > 0
        ? unique(
            hooks.filterNodes.call([...candidates], pod).flatMap((c) => byName.get(nodeName(c.node)) ?? []),
          )
        : candidates;
    if (filtered.length === 0) {
      const dropped = candidates.length;
      const plugins = dropped > 0 ? hooks.filterNodes.taps.map((tap) => tap.name) : [];
      return this.#unplaceable(
        pod,
        unavailableMessage(bases.length, misfits, { count: dropped, plugins }),
        true,
      );
    }

    const podsOn = new Map(fits.map((base) => [base.node, base.pods]));
    const workload = this.#options.workloads.ownerOf(pod);
    const deployment =
      workload?.kind === 'Deployment'
        ? this.#options.caches.deployments.get(workload.name, workload.namespace)
        : undefined;
    const policy = resolvePolicy(
      this.#options.policy,
      deployment?.metadata?.annotations,
      pod.metadata?.annotations,
      this.#rolloutOf(pod, workload),
    );
    for (const problem of policy.problems)
      this.#options.events.record(podRef(pod), 'Warning', 'InvalidSchedulingPolicy', problem);
    const hints = placementHints({
      pod,
      workloadUid: workload?.uid,
      ownerOf: (other) => this.#options.workloads.ownerOf(other)?.uid,
      current: this.#options.workloads.isCurrentRevision(pod),
      currentVersions: this.#currentVersions(pod),
      bases: filtered.map((c) => this.#baseModules(c.node, podsOn.get(c.node) ?? [])),
    });
    const preferredAffinity = new Map(
      filtered.map((c) => [nodeName(c.node), preferredAffinityWeight(pod.spec, c.node)] as const),
    );
    const scored = scoreCandidates(filtered, policy.policy, hints, {
      preferredAffinity,
      spreadCrowding: softSpreadCrowding(pod, bases, filtered),
      podAffinity: preferredPodAffinity(
        pod,
        bases.flatMap((base) => base.pods.map((other) => ({ pod: other, node: base.node }))),
        filtered.map((c) => c.node),
      ),
    });
    const offered = new Set(filtered);
    // A score tap may only change scores: a base it adds is ignored, as is any change to the other fields.
    const rescored =
      hooks.scoreNodes.taps.length > 0
        ? hooks.scoreNodes.call([...scored], pod).flatMap((s): ScoredNode[] => {
            const original = byName.get(nodeName(s.node));
            return original && offered.has(original) ? [{ ...original, score: s.score }] : [];
          })
        : scored;
    const best = pickBest(rescored);
    if (!best) {
      return this.#unplaceable(
        pod,
        `0/${String(bases.length)} nodes are available: ${String(filtered.length)} node(s) were scored out by scoreNodes plugins (${hooks.scoreNodes.taps.map((t) => t.name).join(', ')}).`,
        true,
      );
    }
    const target = nodeName(best.node);
    if (!(await this.#bind(pod, target))) return undefined;
    this.#assumed.set(key, {
      pod: { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: target } },
      nodeName: target,
      at: this.#options.clock.now(),
    });
    this.#unschedulable.delete(key);
    this.#options.attempts?.inc({ result: 'scheduled' });
    const why = [
      `policy ${policy.policy}${policySource(policy)}`,
      `score ${best.score.toFixed(1)} of ${String(rescored.length)} candidate(s)`,
      ...(hints.inPlace.has(target) ? ['replaces another version in place'] : []),
      `${String(best.modules + 1)}/${Number.isFinite(best.cap) ? String(best.cap) : '∞'} module pods`,
    ];
    this.#options.events.record(
      podRef(pod),
      'Normal',
      'Scheduled',
      `Successfully assigned ${key} to ${target} (${why.join(', ')})`,
    );
    logger.info({ pod: key, node: target, policy: policy.policy, score: best.score }, 'pod bound');
    return undefined;
  }

  /** Binds through the Binding API; false when the pod is gone or was bound meanwhile (by anyone). */
  async #bind(pod: V1Pod, target: string): Promise<boolean> {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    try {
      await this.#core.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          // The uid: a pod recreated under the same name (StatefulSet) is not the one decided for.
          metadata: { name, namespace, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: target },
        },
      });
      return true;
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) {
        this.#options.logger.debug({ pod: keyOf(pod), node: target }, 'bind skipped: pod gone or bound');
        return false;
      }
      this.#options.attempts?.inc({ result: 'error' });
      throw error;
    }
  }

  /** The pod fits nowhere: PodScheduled=False with the reason, a FailedScheduling Event, and a later retry. */
  async #unplaceable(pod: V1Pod, message: string, retry: boolean): Promise<ReconcileResult | undefined> {
    const key = keyOf(pod);
    this.#options.attempts?.inc({ result: 'unschedulable' });
    this.#options.events.record(podRef(pod), 'Warning', 'FailedScheduling', message);
    this.#options.logger.info({ pod: key, reason: message }, 'pod unschedulable');
    const shown = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (shown?.status !== 'False' || shown.reason !== 'Unschedulable' || shown.message !== message) {
      try {
        await this.#core.patchNamespacedPodStatus(
          {
            name: pod.metadata?.name ?? '',
            namespace: pod.metadata?.namespace ?? '',
            body: {
              status: {
                conditions: [
                  {
                    type: 'PodScheduled',
                    status: 'False',
                    reason: 'Unschedulable',
                    message,
                    lastProbeTime: null,
                    lastTransitionTime:
                      shown?.status === 'False' && shown.lastTransitionTime
                        ? shown.lastTransitionTime
                        : new Date(this.#options.clock.now()),
                  },
                ],
              },
            },
            fieldManager: SCHEDULER_FIELD_MANAGER,
          },
          strategicMergePatch(),
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    if (!retry) return undefined;
    this.#unschedulable.add(key);
    return { requeueAfterMs: this.#options.retryMs };
  }

  /** Every base with the pods placed on it — the cache, and this scheduler's binds it does not show yet. */
  #bases(): BaseSlots[] {
    const now = this.#options.clock.now();
    const { podIndex } = this.#options.caches;
    const assumedOn = new Map<string, V1Pod[]>();
    for (const [key, assumed] of this.#assumed) {
      if (now - assumed.at > ASSUMED_MS || podIndex.get(key)?.spec?.nodeName) {
        this.#assumed.delete(key);
        continue;
      }
      const list = assumedOn.get(assumed.nodeName) ?? [];
      list.push(assumed.pod);
      assumedOn.set(assumed.nodeName, list);
    }
    return this.#options.nodes().map((node) => {
      const name = nodeName(node);
      const pods = [...podIndex.onNode(name), ...(assumedOn.get(name) ?? [])].filter(
        (pod) => !isTerminal(pod),
      );
      return { node, pods, cap: allocatablePods(node) };
    });
  }

  #baseModules(node: V1Node, pods: readonly V1Pod[]): BaseModules {
    const name = nodeName(node);
    const inventory = [...this.#options.inventoryOf(name).values()].filter(
      (status) => status.state === 'ACTIVATED' || status.state === 'DEACTIVATED',
    );
    return {
      nodeName: name,
      pods,
      retained: readRecords(node).retentions.map((r) => ({
        workloadUid: r.workload.uid,
        bizName: r.bizName,
        bizVersion: r.bizVersion,
      })),
      inventory,
    };
  }

  /**
   * The ModuleRollout of a Deployment pod's own revision (from its ReplicaSet), whose spec may set the policy for
   * that revision's pods. None when rollouts are off: that cache is then never filled.
   */
  #rolloutOf(
    pod: V1Pod,
    workload: WorkloadRef | undefined,
  ): { name: string; schedulingPolicy: string | undefined } | undefined {
    if (workload?.kind !== 'Deployment') return undefined;
    const { caches } = this.#options;
    const rsName = pod.metadata?.ownerReferences?.find((ref) => ref.controller)?.name;
    const rs = rsName ? caches.replicaSets.get(rsName, workload.namespace) : undefined;
    const revision = revisionOf(rs);
    if (revision === 0) return undefined;
    const name = rolloutName(workload.name, revision);
    const rollout = caches.moduleRollouts.get(name, workload.namespace);
    return rollout ? { name, schedulingPolicy: rollout.spec.strategy?.schedulingPolicy } : undefined;
  }

  /** For a pod of an older revision: its workload's current version of each of its modules. */
  #currentVersions(pod: V1Pod): Map<string, string> {
    const versions = new Map<string, string>();
    const { workloads } = this.#options;
    const workload = workloads.ownerOf(pod);
    if (!workload || workloads.isCurrentRevision(pod)) return versions;
    for (const module of podModules(pod).modules) {
      const version = workloads.currentVersion(workload, module.bizName);
      if (version !== undefined) versions.set(module.bizName, version);
    }
    return versions;
  }
}

/** The crowding of each candidate for the pod's ScheduleAnyway spread constraints; undefined without any. */
function softSpreadCrowding(
  pod: V1Pod,
  bases: readonly BaseSlots[],
  candidates: readonly NodeCandidate[],
): Map<string, number | undefined> | undefined {
  const soft = (pod.spec?.topologySpreadConstraints ?? []).some(
    (c) => c.whenUnsatisfiable === 'ScheduleAnyway',
  );
  if (!soft) return undefined;
  const spread = topologySpread(pod, bases);
  return new Map(candidates.map((c) => [nodeName(c.node), spread.crowding(c.node)] as const));
}

function keyOf(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function nodeName(node: V1Node): string {
  return node.metadata?.name ?? '';
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** What of a node changes where pods may go: readiness, cordon, labels, taints and the cap. */
function placementShape(node: V1Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  return JSON.stringify([
    ready,
    node.spec?.unschedulable ?? false,
    node.metadata?.labels ?? {},
    node.spec?.taints ?? [],
    node.status?.allocatable?.['pods'] ?? '',
  ]);
}
