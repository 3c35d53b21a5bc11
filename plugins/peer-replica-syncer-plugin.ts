import {
  AppsV1Api,
  CoreV1Api,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  type V1PodSpec,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { Controller, type ReconcileResult } from '../core/controller/controller.ts';
import { isNodeReady } from '../core/kube/conditions.ts';
import { deploymentRef } from '../core/kube/event-recorder.ts';
import { isConflict, isNotFound } from '../core/kube/kube-errors.ts';
import { templateFitsNode } from '../core/kube/node-affinity.ts';
import { FIELD_MANAGER, mergePatch } from '../core/kube/patch-options.ts';
import { DELETION_COST, SUPERSEDED_DELETION_COST } from '../core/module/module-pod.ts';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import { replicaSetsOf } from '../core/rollout/deployment-revisions.ts';

const optionsSchema = z
  .object({
    resyncSeconds: z
      .number()
      .min(1)
      .default(30)
      .describe('Look at every peer Deployment this often, besides reacting to node and Deployment changes.'),
  })
  .strict()
  .prefault({});

/** The label that makes a Deployment a peer Deployment (and upstream's spelling, accepted on input). */
export const PEER_LABELS = [
  'module-controller.koupleless.io/strategy',
  'virtual-kubelet.koupleless.io/strategy',
] as const;

export function isPeerDeployment(deployment: V1Deployment): boolean {
  const labels = deployment.metadata?.labels ?? {};
  return PEER_LABELS.some((label) => labels[label] === 'peer');
}

/**
 * The pod templates whose bases count: the Deployment's template, and during a rollout also those of older
 * ReplicaSets that still have pods — so an incompatible release (a template that only fits bases that do not
 * exist yet) never scales the running version to zero.
 */
export function peerTemplates(deployment: V1Deployment, replicaSets: Parameters<typeof replicaSetsOf>[1]) {
  const templates: (V1PodSpec | undefined)[] = [deployment.spec?.template.spec];
  for (const rs of replicaSetsOf(deployment, replicaSets)) {
    if ((rs.status?.replicas ?? 0) > 0 || (rs.spec?.replicas ?? 0) > 0)
      templates.push(rs.spec?.template?.spec);
  }
  return templates;
}

/** Ready, schedulable bases on which at least one of the templates may run, by node name. Pure. */
export function peerNodes(
  templates: readonly (V1PodSpec | undefined)[],
  nodes: readonly V1Node[],
): Set<string> {
  return new Set(
    nodes
      .filter(
        (node) =>
          isNodeReady(node) &&
          node.spec?.unschedulable !== true &&
          templates.some((template) => templateFitsNode(template, node)),
      )
      .map((node) => node.metadata?.name ?? ''),
  );
}

/** How many bases a peer Deployment should have a pod on. Pure. */
export function peerReplicas(
  templates: readonly (V1PodSpec | undefined)[],
  nodes: readonly V1Node[],
): number {
  return peerNodes(templates, nodes).size;
}

/**
 * The deletion cost of a peer pod whose base no longer counts (lost, cordoned, relabelled). Lower than a
 * superseded pod's: such a base serves nothing at all.
 */
export const LEAVING_DELETION_COST = '-2000';

/** Marked to go first when the ReplicaSet scales down (the cost, or a lower one someone else set). */
function markedLeaving(pod: V1Pod): boolean {
  const cost = Number(pod.metadata?.annotations?.[DELETION_COST] ?? '0');
  return Number.isFinite(cost) && cost <= Number(SUPERSEDED_DELETION_COST);
}

/**
 * The pods whose deletion cost must change before a scale: pods on bases that no longer count get the lowest
 * cost — a pod on a lost base still looks Ready (nothing marks it NotReady), so without it the ReplicaSet could
 * delete a live base's pod and leave the dead base's one to eviction, uninstalling the module where it runs —
 * and pods back on counted bases lose a cost this plugin gave them. Pure.
 */
export function deletionCostChanges(
  pods: readonly V1Pod[],
  counted: ReadonlySet<string>,
): { readonly leaving: V1Pod[]; readonly back: V1Pod[] } {
  const bound = pods.filter((pod) => pod.spec?.nodeName && !pod.metadata?.deletionTimestamp);
  return {
    leaving: bound.filter((pod) => !counted.has(pod.spec?.nodeName ?? '') && !markedLeaving(pod)),
    back: bound.filter(
      (pod) =>
        counted.has(pod.spec?.nodeName ?? '') &&
        pod.metadata?.annotations?.[DELETION_COST] === LEAVING_DELETION_COST,
    ),
  };
}

/**
 * Peer replica syncer (the v1 `replicas: -1`; upstream v2's replicas sync): a Deployment labelled
 * `module-controller.koupleless.io/strategy: peer` gets as many replicas as there are Ready bases matching its
 * template's nodeSelector and required node affinity. During a rollout the bases of the old ∪ new templates
 * count. The rollout engine plans with this number at once (`desiredReplicas`); the leader also writes it to the
 * Deployment's scale, so the Deployment controller creates or removes pods.
 */
export class PeerReplicaSyncerPlugin implements KmcPlugin {
  static readonly pluginName = 'peer-replica-syncer';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'replicas of peer Deployments follow the number of matching Ready bases';
  readonly name = PeerReplicaSyncerPlugin.pluginName;
  readonly #resyncMs: number;
  #controller: Controller | undefined;
  #resync: NodeJS.Timeout | undefined;

  constructor(options: z.output<typeof optionsSchema>) {
    this.#resyncMs = options.resyncSeconds * 1000;
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.desiredReplicas.tapPromise(this.name, (replicas, deployment) =>
      Promise.resolve(isPeerDeployment(deployment) ? this.#count(orchestrator, deployment) : replicas),
    );
    orchestrator.hooks.leading.tapPromise(this.name, () => {
      this.#start(orchestrator);
      return Promise.resolve();
    });
    orchestrator.hooks.shutdown.tapPromise(this.name, async () => {
      clearInterval(this.#resync);
      await this.#controller?.stop();
    });
  }

  #count(orchestrator: Orchestrator, deployment: V1Deployment): number {
    return this.#counted(orchestrator, deployment).size;
  }

  #counted(orchestrator: Orchestrator, deployment: V1Deployment): Set<string> {
    const replicaSets = orchestrator.caches.replicaSets.list(deployment.metadata?.namespace);
    return peerNodes(peerTemplates(deployment, replicaSets), orchestrator.vnodes.nodes.list());
  }

  #start(orchestrator: Orchestrator): void {
    const logger = orchestrator.getLogger(this.name);
    const clients = {
      apps: orchestrator.kc.makeApiClient(AppsV1Api),
      core: orchestrator.kc.makeApiClient(CoreV1Api),
    };
    const controller = new Controller({
      name: this.name,
      logger,
      workers: 1,
      isQuiet: isConflict,
      reconcile: (key) => this.#sync(orchestrator, clients, key),
    });
    this.#controller = controller;
    const { caches, vnodes } = orchestrator;
    const enqueueAll = () => {
      for (const deployment of caches.deployments.list()) {
        if (isPeerDeployment(deployment))
          controller.enqueue(`${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`);
      }
    };
    const shape = (node: V1Node | undefined) =>
      `${String(isNodeReady(node))}/${String(node?.spec?.unschedulable ?? false)}/${JSON.stringify(node?.metadata?.labels ?? {})}`;
    const seen = new Map<string, string>();
    vnodes.onNode((event, node) => {
      // Heartbeats update nodes all the time; only readiness, cordon and labels change a count.
      const name = node.metadata?.name ?? '';
      const now = event === 'delete' ? 'gone' : shape(node);
      if (seen.get(name) === now) return;
      if (event === 'delete') seen.delete(name);
      else seen.set(name, now);
      enqueueAll();
    });
    caches.on('deployment', (_event, deployment) => {
      if (isPeerDeployment(deployment))
        controller.enqueue(`${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`);
    });
    caches.on('replicaSet', (_event, rs) => {
      const owner = rs.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Deployment');
      const deployment = owner ? caches.deployments.get(owner.name, rs.metadata?.namespace) : undefined;
      if (deployment && isPeerDeployment(deployment))
        controller.enqueue(`${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`);
    });
    controller.start();
    enqueueAll();
    this.#resync = setInterval(enqueueAll, this.#resyncMs);
    this.#resync.unref();
  }

  async #sync(
    orchestrator: Orchestrator,
    clients: Clients,
    key: string,
  ): Promise<ReconcileResult | undefined> {
    const [namespace = '', name = ''] = key.split('/');
    const deployment = orchestrator.caches.deployments.get(name, namespace);
    if (!deployment || !isPeerDeployment(deployment) || deployment.metadata?.deletionTimestamp)
      return undefined;
    const counted = this.#counted(orchestrator, deployment);
    const costs = await this.#setDeletionCosts(orchestrator, clients.core, deployment, counted);
    const want = counted.size;
    const have = deployment.spec?.replicas ?? 1;
    if (want === have) return undefined;
    // Scale down only once the cache shows the pods of lost bases marked: the ReplicaSet must see them too.
    if (want < have && costs.marked > 0) return { requeueAfterMs: 200 };
    try {
      await clients.apps.patchNamespacedDeploymentScale(
        { name, namespace, body: { spec: { replicas: want } }, fieldManager: FIELD_MANAGER },
        mergePatch(),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    orchestrator.metrics.apiWrites.inc({ resource: 'deployments/scale', verb: 'patch' });
    orchestrator.events.record(
      deploymentRef(deployment),
      'Normal',
      'PeerReplicasSynced',
      `replicas ${String(have)} → ${String(want)}: ${String(want)} Ready bases match the template`,
    );
    return undefined;
  }

  /** Gives the pods of bases that no longer count the lowest deletion cost; returns how many it just marked. */
  async #setDeletionCosts(
    orchestrator: Orchestrator,
    core: CoreV1Api,
    deployment: V1Deployment,
    counted: ReadonlySet<string>,
  ): Promise<{ marked: number }> {
    const { caches } = orchestrator;
    const pods = replicaSetsOf(deployment, caches.replicaSets.list(deployment.metadata?.namespace)).flatMap(
      (rs) => caches.podIndex.byOwner(rs.metadata?.uid ?? ''),
    );
    const { leaving, back } = deletionCostChanges(pods, counted);
    for (const pod of leaving) await this.#patchCost(orchestrator, core, pod, LEAVING_DELETION_COST);
    for (const pod of back) await this.#patchCost(orchestrator, core, pod, null);
    return { marked: leaving.length };
  }

  async #patchCost(
    orchestrator: Orchestrator,
    core: CoreV1Api,
    pod: V1Pod,
    cost: string | null,
  ): Promise<void> {
    try {
      await core.patchNamespacedPod(
        {
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          body: { metadata: { annotations: { [DELETION_COST]: cost } } },
          fieldManager: FIELD_MANAGER,
        },
        mergePatch(),
      );
      orchestrator.metrics.apiWrites.inc({ resource: 'pods', verb: 'patch' });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

interface Clients {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
}
