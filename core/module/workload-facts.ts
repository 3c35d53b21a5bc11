import type { V1Pod } from '@kubernetes/client-node';
import type { WorkloadRef } from './node-records.ts';

/**
 * What the module controller needs to know about the workloads behind the pods on a base. Computed from the
 * informer caches (workload-index.ts); a plain object in tests of the pure planner.
 */
export interface WorkloadFacts {
  /** The controlling workload: a Deployment (through its ReplicaSet), DaemonSet, StatefulSet; none for bare pods. */
  ownerOf(pod: V1Pod): WorkloadRef | undefined;
  /** The pod belongs to its workload's update target (the Deployment's newest ReplicaSet, the DS/STS template). */
  isCurrentRevision(pod: V1Pod): boolean;
  /** The version of `bizName` in the workload's update target, if it asks for that module. */
  currentVersion(workload: WorkloadRef, bizName: string): string | undefined;
  /** A Deployment whose pods are not all of its newest revision and available yet. */
  isRollingOut(workload: WorkloadRef): boolean;
  /** The workload has all the Ready pods it wants. */
  hasAllReady(workload: WorkloadRef): boolean;
  exists(workload: WorkloadRef): boolean;
}

export function sameWorkload(a: WorkloadRef | undefined, b: WorkloadRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.uid === b.uid;
}
