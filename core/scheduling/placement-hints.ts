/**
 * Where a pod should go because of what the bases already run (the update preference of the scheduler plugin):
 * a pod of its workload's current version prefers a base where the workload keeps a retained instance of one of
 * its modules, or where another version of one of its modules runs — so the new version replaces it in place —
 * unless the base already has a pod of the workload at this version. A pod of an older revision (the old
 * ReplicaSet's replacement during a rollout) avoids bases that run the current version, where the revision guard
 * would hold it. Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { podModules } from '../module/module-pod.ts';

/** What one base runs, as the hints need it. */
export interface BaseModules {
  readonly nodeName: string;
  /** Pods placed on it (deleting ones included: their modules are still there). */
  readonly pods: readonly V1Pod[];
  /** Retained instances (kmc's Node records), with the workload keeping each. */
  readonly retained: readonly {
    readonly workloadUid: string;
    readonly bizName: string;
    readonly bizVersion: string;
  }[];
  /** What the base reports running (any state but gone). */
  readonly inventory: readonly { readonly bizName: string; readonly bizVersion: string }[];
}

export interface PlacementInput {
  readonly pod: V1Pod;
  /** The uid of the pod's workload (a Deployment through its ReplicaSet, a DaemonSet, a StatefulSet). */
  readonly workloadUid: string | undefined;
  /** The uid of a placed pod's workload. */
  readonly ownerOf: (pod: V1Pod) => string | undefined;
  /** The pod belongs to its workload's update target. */
  readonly current: boolean;
  /** The workload's current version of each of the pod's modules (by bizName), for a pod of an older revision. */
  readonly currentVersions: ReadonlyMap<string, string>;
  readonly bases: readonly BaseModules[];
}

export interface PlacementHints {
  /** Bases where the pod would replace another version in place (or adopt a retained instance). */
  readonly inPlace: ReadonlySet<string>;
  /** Bases where the pod would be held (an older revision where the current one runs). */
  readonly avoid: ReadonlySet<string>;
}

export function placementHints(input: PlacementInput): PlacementHints {
  const { pod, workloadUid, ownerOf, current, currentVersions, bases } = input;
  const modules = podModules(pod).modules;
  const inPlace = new Set<string>();
  const avoid = new Set<string>();
  if (modules.length === 0) return { inPlace, avoid };
  for (const base of bases) {
    const mine = workloadUid
      ? base.pods.filter((other) => other !== pod && ownerOf(other) === workloadUid)
      : [];
    const versionsOf = (bizName: string) => {
      const versions = new Set<string>();
      for (const other of mine)
        for (const m of podModules(other).modules) if (m.bizName === bizName) versions.add(m.bizVersion);
      for (const r of base.retained)
        if (r.workloadUid === workloadUid && r.bizName === bizName) versions.add(r.bizVersion);
      for (const i of base.inventory) if (i.bizName === bizName) versions.add(i.bizVersion);
      return versions;
    };
    if (current) {
      const alreadyHere = mine.some(
        (other) =>
          !other.metadata?.deletionTimestamp &&
          podModules(other).modules.some((m) =>
            modules.some((wanted) => wanted.bizName === m.bizName && wanted.bizVersion === m.bizVersion),
          ),
      );
      const retainedHere = base.retained.some(
        (r) => r.workloadUid === workloadUid && modules.some((m) => m.bizName === r.bizName),
      );
      const otherVersionHere = modules.some((m) =>
        [...versionsOf(m.bizName)].some((version) => version !== m.bizVersion),
      );
      if (!alreadyHere && (retainedHere || otherVersionHere)) inPlace.add(base.nodeName);
    } else {
      const currentHere = modules.some((m) => {
        const wanted = currentVersions.get(m.bizName);
        return wanted !== undefined && wanted !== m.bizVersion && versionsOf(m.bizName).has(wanted);
      });
      if (currentHere) avoid.add(base.nodeName);
    }
  }
  return { inPlace, avoid };
}
