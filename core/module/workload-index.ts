import type {
  V1DaemonSet,
  V1Deployment,
  V1Pod,
  V1PodSpec,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { ObjectCache } from '../kube/scoped-informers.ts';
import { parseLabelSelector, type LabelSelector } from '../kube/label-selector.ts';
import { podModules } from './module-pod.ts';
import type { WorkloadRef } from './node-records.ts';
import type { PodIndex } from './pod-index.ts';
import { isTerminal, rolloutName, type ModuleRollout } from '../rollout/module-rollout.ts';
import type { WorkloadFacts } from './workload-facts.ts';

const REVISION = 'deployment.kubernetes.io/revision';

export interface WorkloadInformers {
  readonly deployments: ObjectCache<V1Deployment>;
  readonly replicaSets: ObjectCache<V1ReplicaSet>;
  readonly daemonSets: ObjectCache<V1DaemonSet>;
  readonly statefulSets: ObjectCache<V1StatefulSet>;
  /** The rollout engine's ModuleRollouts, when it runs: a rollout in progress is the surest sign of one. */
  readonly moduleRollouts?: ObjectCache<ModuleRollout>;
}

/** WorkloadFacts from the informer caches. */
export class WorkloadIndex implements WorkloadFacts {
  readonly #informers: WorkloadInformers;
  readonly #pods: PodIndex;
  readonly #rollouts: LabelSelector;

  /** `rollouts`: the Deployments kmc manages as rollouts (watch.deploymentSelector); others roll natively. */
  constructor(
    informers: WorkloadInformers,
    pods: PodIndex,
    rollouts: LabelSelector = parseLabelSelector(''),
  ) {
    this.#informers = informers;
    this.#pods = pods;
    this.#rollouts = rollouts;
  }

  ownerOf(pod: V1Pod): WorkloadRef | undefined {
    const namespace = pod.metadata?.namespace ?? '';
    const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller);
    if (!owner) return undefined;
    if (owner.kind === 'ReplicaSet') {
      const rs = this.#informers.replicaSets.get(owner.name, namespace);
      const deployment = rs?.metadata?.ownerReferences?.find(
        (ref) => ref.controller && ref.kind === 'Deployment',
      );
      if (deployment) return { kind: 'Deployment', namespace, name: deployment.name, uid: deployment.uid };
      return { kind: 'ReplicaSet', namespace, name: owner.name, uid: owner.uid };
    }
    return { kind: owner.kind, namespace, name: owner.name, uid: owner.uid };
  }

  isCurrentRevision(pod: V1Pod): boolean {
    const workload = this.ownerOf(pod);
    if (!workload) return true;
    const namespace = workload.namespace;
    switch (workload.kind) {
      case 'Deployment': {
        const rsName = pod.metadata?.ownerReferences?.find((ref) => ref.controller)?.name;
        return rsName !== undefined && this.newestReplicaSet(workload)?.metadata?.name === rsName;
      }
      case 'StatefulSet': {
        const sts = this.#informers.statefulSets.get(workload.name, namespace);
        const update = sts?.status?.updateRevision;
        return !update || pod.metadata?.labels?.['controller-revision-hash'] === update;
      }
      case 'DaemonSet': {
        // The DaemonSet's template is its update target; compare the modules the pod asks for with it.
        const ds = this.#informers.daemonSets.get(workload.name, namespace);
        if (!ds) return true;
        const target = podModules({ spec: ds.spec?.template.spec ?? { containers: [] } }).modules;
        const mine = podModules(pod).modules;
        return mine.every((m) =>
          target.some((t) => t.bizName === m.bizName && t.bizVersion === m.bizVersion),
        );
      }
      default:
        return true;
    }
  }

  currentVersion(workload: WorkloadRef, bizName: string): string | undefined {
    const template = this.#template(workload);
    if (!template) return undefined;
    return podModules({ spec: template }).modules.find((m) => m.bizName === bizName)?.bizVersion;
  }

  isRollingOut(workload: WorkloadRef): boolean {
    if (workload.kind !== 'Deployment') return false;
    const deployment = this.#deployment(workload);
    if (!deployment || !this.#rollouts.matches(deployment.metadata?.labels)) return false;
    const newest = this.newestReplicaSet(workload);
    // The Deployment's status can look done while the pods it replaced are still being deleted (a fast undo):
    // the ModuleRollout of its target revision says whether the rollout is over.
    const rollout = newest
      ? this.#informers.moduleRollouts?.get(
          rolloutName(workload.name, Number(newest.metadata?.annotations?.[REVISION] ?? 0)),
          workload.namespace,
        )
      : undefined;
    const phase = rollout?.status?.phase;
    if (phase !== undefined && phase !== 'Completed' && !isTerminal(phase)) return true;
    const replicas = deployment.spec?.replicas ?? 1;
    const status = deployment.status;
    if ((status?.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) return true;
    if ((status?.updatedReplicas ?? 0) < replicas || (status?.availableReplicas ?? 0) < replicas) return true;
    // Pods of older ReplicaSets still around: the Deployment controller is not done with them.
    for (const rs of this.#replicaSetsOf(workload)) {
      if (rs === newest) continue;
      if (this.#pods.byOwner(rs.metadata?.uid ?? '').some((pod) => !pod.metadata?.deletionTimestamp))
        return true;
    }
    return false;
  }

  hasAllReady(workload: WorkloadRef): boolean {
    const desired = this.#desiredReplicas(workload);
    if (desired === undefined) return true;
    const owners =
      workload.kind === 'Deployment'
        ? this.#replicaSetsOf(workload).map((rs) => rs.metadata?.uid ?? '')
        : [workload.uid];
    let ready = 0;
    for (const owner of owners) {
      for (const pod of this.#pods.byOwner(owner)) {
        if (pod.metadata?.deletionTimestamp) continue;
        if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ready += 1;
      }
    }
    return ready >= desired;
  }

  exists(workload: WorkloadRef): boolean {
    const object = this.#object(workload);
    return (
      object !== undefined && object.metadata?.uid === workload.uid && !object.metadata.deletionTimestamp
    );
  }

  /** The Deployment's newest ReplicaSet: its rollout target. */
  newestReplicaSet(workload: WorkloadRef): V1ReplicaSet | undefined {
    let newest: V1ReplicaSet | undefined;
    let newestRevision = -1;
    for (const rs of this.#replicaSetsOf(workload)) {
      const revision = Number.parseInt(rs.metadata?.annotations?.[REVISION] ?? '0', 10);
      if (revision > newestRevision) {
        newest = rs;
        newestRevision = revision;
      }
    }
    return newest;
  }

  #replicaSetsOf(workload: WorkloadRef): V1ReplicaSet[] {
    return this.#informers.replicaSets
      .list(workload.namespace)
      .filter((rs) =>
        rs.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === workload.uid),
      );
  }

  #deployment(workload: WorkloadRef): V1Deployment | undefined {
    const deployment = this.#informers.deployments.get(workload.name, workload.namespace);
    return deployment?.metadata?.uid === workload.uid ? deployment : undefined;
  }

  #object(workload: WorkloadRef) {
    switch (workload.kind) {
      case 'Deployment':
        return this.#informers.deployments.get(workload.name, workload.namespace);
      case 'ReplicaSet':
        return this.#informers.replicaSets.get(workload.name, workload.namespace);
      case 'DaemonSet':
        return this.#informers.daemonSets.get(workload.name, workload.namespace);
      case 'StatefulSet':
        return this.#informers.statefulSets.get(workload.name, workload.namespace);
      default:
        return undefined;
    }
  }

  #template(workload: WorkloadRef) {
    switch (workload.kind) {
      case 'Deployment': {
        // The newest ReplicaSet's template, except while the Deployment asks for other modules than it: an undo
        // or an apply the Deployment controller (or this cache of ReplicaSets) has not caught up with yet. Its
        // old pods are already being deleted then, and must be kept for the version the Deployment now wants.
        const wanted = this.#deployment(workload)?.spec?.template.spec;
        const newest = this.newestReplicaSet(workload)?.spec?.template?.spec;
        if (!newest) return wanted;
        return wanted && !sameModules(wanted, newest) ? wanted : newest;
      }
      case 'ReplicaSet':
        return this.#informers.replicaSets.get(workload.name, workload.namespace)?.spec?.template?.spec;
      case 'DaemonSet':
        return this.#informers.daemonSets.get(workload.name, workload.namespace)?.spec?.template.spec;
      case 'StatefulSet':
        return this.#informers.statefulSets.get(workload.name, workload.namespace)?.spec?.template.spec;
      default:
        return undefined;
    }
  }

  #desiredReplicas(workload: WorkloadRef): number | undefined {
    switch (workload.kind) {
      case 'Deployment':
        return this.#deployment(workload)?.spec?.replicas ?? 1;
      case 'ReplicaSet':
        return this.#informers.replicaSets.get(workload.name, workload.namespace)?.spec?.replicas ?? 1;
      case 'StatefulSet':
        return this.#informers.statefulSets.get(workload.name, workload.namespace)?.spec?.replicas ?? 1;
      case 'DaemonSet':
        return this.#informers.daemonSets.get(workload.name, workload.namespace)?.status
          ?.desiredNumberScheduled;
      default:
        return undefined;
    }
  }
}

/** Two pod specs ask for the same modules (names, versions and jars). */
export function sameModules(a: V1PodSpec, b: V1PodSpec): boolean {
  const key = (spec: V1PodSpec) =>
    podModules({ spec })
      .modules.map((m) => `${m.bizName}:${m.bizVersion}:${m.bizUrl}`)
      .sort()
      .join('|');
  return key(a) === key(b);
}
