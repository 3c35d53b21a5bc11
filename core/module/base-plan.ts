/**
 * The module controller's decisions for one base, as a pure function of what it knows (ARCHITECTURE §2.2):
 * which pods the install gate admits or holds, which instances to install or uninstall, which deleted pods may
 * go, which retentions start or end, and which pods are superseded by a current version running beside them.
 * The I/O around it (module-controller.ts) gathers the inputs, asks the `holdInstall` hook, and carries the plan
 * out in a crash-safe order: admissions and records first, then commands, then pod deletions and statuses.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Hold } from '../hold.ts';
import type { BizStatus } from '../tunnel/tunnel.ts';
import { IN_FLIGHT_TIMEOUT_MS, type InFlight } from './base-modules.ts';
import { moduleKey, parseModuleKey, type ModuleSpec, type PodModules } from './module-pod.ts';
import type { ActivationMode, NodeRecords, Retention, RetentionReason, WorkloadRef } from './node-records.ts';
import type { Supersession } from './pod-status.ts';
import { sameWorkload, type WorkloadFacts } from './workload-facts.ts';

/** A failed uninstall is tried again after this long. */
export const UNINSTALL_RETRY_MS = 30_000;

export interface PodView {
  readonly pod: V1Pod;
  readonly uid: string;
  readonly isModulePod: boolean;
  readonly parsed: PodModules;
  readonly admitted: boolean;
  readonly deleting: boolean;
  /** deletionTimestamp: the moment the grace period ends. */
  readonly deletionDeadline: number | undefined;
  readonly disrupted: boolean;
  readonly workload: WorkloadRef | undefined;
  readonly currentRevision: boolean;
}

export interface BasePlanInput {
  readonly now: number;
  /** Heard within its silence timeout (commands can reach it, pods may run). */
  readonly baseAlive: boolean;
  /** Known not to run: silent past its timeout, deactivated, or replaced. (Neither alive nor gone: not heard yet.) */
  readonly baseGone: boolean;
  /** Heard by this process (not only adopted after a restart): uninstall decisions are allowed. */
  readonly baseTrusted: boolean;
  /**
   * A complete module list arrived since the base's process started, and none is awaited after an install (whose
   * reply leaves the other versions' states stale): decisions that depend on what runs wait otherwise.
   */
  readonly inventoryKnown: boolean;
  readonly pods: readonly PodView[];
  readonly inventory: ReadonlyMap<string, BizStatus>;
  readonly inFlight: ReadonlyMap<string, InFlight>;
  readonly recentlyGone: ReadonlyMap<string, number>;
  readonly uninstallFailedAt: ReadonlyMap<string, number>;
  readonly records: NodeRecords;
  readonly facts: WorkloadFacts;
  /** The install gate's answer for each pod awaiting admission (by uid): a Hold, or undefined to admit. */
  readonly gate: ReadonlyMap<string, Hold | undefined>;
  readonly retentionMaxMs: number;
}

export interface PlannedInstall {
  readonly key: string;
  readonly spec: ModuleSpec;
  readonly pod: PodView | undefined;
}

export interface PlannedUninstall {
  readonly key: string;
  readonly spec: ModuleSpec;
  readonly reason: string;
  readonly pod: PodView | undefined;
}

export interface PlanNote {
  readonly about: 'node' | PodView;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface BasePlan {
  readonly records: NodeRecords;
  readonly admit: readonly PodView[];
  readonly hold: readonly { readonly pod: PodView; readonly hold: Hold }[];
  readonly installs: readonly PlannedInstall[];
  readonly uninstalls: readonly PlannedUninstall[];
  /** Deleted pods whose termination is complete: delete the objects (grace 0). */
  readonly finalize: readonly PodView[];
  readonly superseded: ReadonlyMap<string, Supersession>;
  readonly notes: readonly PlanNote[];
  readonly recheckAfterMs: number | undefined;
}

const ABSENT_STATES = new Set(['STOPPED', 'UNRESOLVED']);

export function planBase(input: BasePlanInput): BasePlan {
  const { now, pods, inventory, inFlight, facts, records } = input;
  const notes: PlanNote[] = [];
  const ledger = new Map(Object.entries(records.ledger));
  let retentions: Retention[] = [...records.retentions];
  let mode: ActivationMode = records.mode;
  const waits: number[] = [];
  const present = (key: string) => {
    if (!inventory.has(key)) return false;
    const state = inventory.get(key)?.state;
    return state === undefined || !ABSENT_STATES.has(state);
  };
  const activated = (key: string) => inventory.get(key)?.state === 'ACTIVATED';
  const usable = input.baseAlive && input.baseTrusted;

  // ---- the install gate ------------------------------------------------------------------------------------
  const admit: PodView[] = [];
  const hold: { pod: PodView; hold: Hold }[] = [];
  if (usable) {
    for (const view of pods) {
      if (view.deleting || view.admitted || !view.isModulePod || !view.parsed.ok) continue;
      if (!input.gate.has(view.uid)) continue;
      const decision = input.gate.get(view.uid);
      if (decision) {
        hold.push({ pod: view, hold: decision });
        if (decision.recheckAfterMs !== undefined) waits.push(decision.recheckAfterMs);
      } else {
        admit.push(view);
      }
    }
  }
  const admittedNow = new Set(admit.map((view) => view.uid));
  const claimants = pods.filter(
    (view) =>
      !view.deleting && view.isModulePod && view.parsed.ok && (view.admitted || admittedNow.has(view.uid)),
  );
  const claims = new Map<string, { spec: ModuleSpec; pods: PodView[] }>();
  for (const view of claimants) {
    for (const spec of view.parsed.modules) {
      const key = moduleKey(spec.bizName, spec.bizVersion);
      const entry = claims.get(key) ?? { spec, pods: [] };
      entry.pods.push(view);
      claims.set(key, entry);
    }
  }

  /** A current-revision pod of `workload` here has claimed an ACTIVATED instance of the current version. */
  const currentActiveHere = (workload: WorkloadRef, bizName: string): boolean => {
    const version = facts.currentVersion(workload, bizName);
    if (version === undefined) return false;
    const key = moduleKey(bizName, version);
    return (
      activated(key) &&
      (claims.get(key)?.pods.some((p) => p.currentRevision && sameWorkload(p.workload, workload)) ?? false)
    );
  };
  const currentRevisionPodHere = (workload: WorkloadRef) =>
    pods.some((p) => !p.deleting && p.currentRevision && sameWorkload(p.workload, workload));

  // ---- deletions: retain, uninstall, or let the pod go -------------------------------------------------------
  const finalize: PodView[] = [];
  for (const view of pods) {
    if (!view.deleting) continue;
    if (!view.isModulePod || !view.admitted || !view.parsed.ok || input.baseGone) {
      finalize.push(view);
      continue;
    }
    // Not heard since a restart yet: whether it still runs the module decides what to do, so wait.
    if (!input.baseAlive) continue;
    // After a restart, no uninstall decision until the base has been heard (or its silence timeout passed), and
    // no retention decision until its module list says what it runs.
    if (!input.baseTrusted || !input.inventoryKnown) continue;
    let done = true;
    for (const spec of view.parsed.modules) {
      const key = moduleKey(spec.bizName, spec.bizVersion);
      // Another pod here claims the instance: it stays, and there is nothing to retain.
      if (claims.has(key)) continue;
      const reason = view.workload ? retentionReason(view, view.workload, spec) : undefined;
      // An install still on its way counts: the base is about to run it, and may switch to it.
      const coming = present(key) || inFlight.get(key)?.op === 'install';
      if (reason && view.workload && coming) {
        if (
          !retentions.some(
            (r) => r.workload.uid === view.workload?.uid && moduleKey(r.bizName, r.bizVersion) === key,
          )
        ) {
          retentions.push({ ...spec, reason, workload: view.workload, podUid: view.uid, since: now });
        }
        continue;
      }
      if (retentions.some((r) => moduleKey(r.bizName, r.bizVersion) === key)) continue;
      // Only what kmc installed is uninstalled: an adopted module (statically merged) stays, so nothing to wait for.
      if (!present(key) || !ledger.has(key)) continue;
      if (view.deletionDeadline !== undefined && now >= view.deletionDeadline) continue;
      done = false;
      if (view.deletionDeadline !== undefined) waits.push(view.deletionDeadline - now);
    }
    if (done) finalize.push(view);
  }

  function retentionReason(
    view: PodView,
    workload: WorkloadRef,
    spec: ModuleSpec,
  ): RetentionReason | undefined {
    if (view.disrupted) return 'disruption';
    // A pod of an older revision is deleted only because its Deployment is rolling (or rolled back) away from
    // it, even when the Deployment's status already looks done. A deleted pod of the revision being rolled out is
    // not kept (its instance is what the rollout installs, not what the base must keep serving meanwhile): its
    // replacement goes through the install gate like any new pod.
    const rolledOutPod =
      view.currentRevision && facts.currentVersion(workload, spec.bizName) === spec.bizVersion;
    if (
      workload.kind === 'Deployment' &&
      (facts.isRollingOut(workload) || !view.currentRevision) &&
      !rolledOutPod &&
      !currentActiveHere(workload, spec.bizName)
    ) {
      return 'rollout';
    }
    return undefined;
  }

  // ---- retentions: release what no longer needs keeping ------------------------------------------------------
  if (input.baseAlive) {
    retentions = retentions.filter((r) => {
      const key = moduleKey(r.bizName, r.bizVersion);
      const release = (why: string) => {
        notes.push({
          about: 'node',
          type: 'Normal',
          reason: 'RetentionReleased',
          message: `${key} of ${r.workload.kind} ${r.workload.namespace}/${r.workload.name} (${r.reason}): ${why}`,
        });
        return false;
      };
      if (claims.has(key)) return release('adopted by a pod on this base');
      if (!facts.exists(r.workload)) return release('the workload is gone');
      if (r.reason === 'rollout') {
        if (currentActiveHere(r.workload, r.bizName)) return release('the current version runs here');
        if (!facts.isRollingOut(r.workload) && !currentRevisionPodHere(r.workload)) {
          return release('the rollout ended with no pod of it on this base');
        }
        if (!facts.isRollingOut(r.workload) && facts.currentVersion(r.workload, r.bizName) === undefined) {
          return release('the rollout ended and the workload no longer asks for it');
        }
      } else {
        if (facts.currentVersion(r.workload, r.bizName) === undefined)
          return release('the workload no longer asks for it');
        if (facts.hasAllReady(r.workload)) return release('the workload has all its Ready pods');
      }
      const rolloutGoesOn = r.reason === 'rollout' && facts.isRollingOut(r.workload);
      if (!rolloutGoesOn && now - r.since >= input.retentionMaxMs) {
        notes.push({
          about: 'node',
          type: 'Warning',
          reason: 'RetentionExpired',
          message: `${key} kept for ${r.workload.kind} ${r.workload.namespace}/${r.workload.name} for ${Math.round((now - r.since) / 1000)} s: released at the retention limit`,
        });
        return false;
      }
      if (!rolloutGoesOn) waits.push(r.since + input.retentionMaxMs - now);
      return true;
    });
  }

  // ---- supersession: an old version beside the current one on this base -------------------------------------
  const superseded = new Map<string, Supersession>();
  const byName = new Map<string, PodView[]>();
  for (const view of claimants) {
    for (const spec of view.parsed.modules) {
      const list = byName.get(spec.bizName) ?? [];
      list.push(view);
      byName.set(spec.bizName, list);
    }
  }
  const currentVersionOf = new Map<string, string>();
  /** Names whose current version comes from the workload's update target (not from install order). */
  const currentFromWorkload = new Set<string>();
  for (const [bizName, list] of byName) {
    const versionOf = (view: PodView) =>
      view.parsed.modules.find((m) => m.bizName === bizName)?.bizVersion ?? '';
    const claimed = new Set(list.map(versionOf));
    // Other versions of the name here: retained, or simply still installed (an old pod already gone).
    const elsewhere = new Set(
      [
        ...[...inventory.values()].filter((s) => s.bizName === bizName).map((s) => s.bizVersion),
        ...retentions.filter((r) => r.bizName === bizName).map((r) => r.bizVersion),
      ].filter((version) => !claimed.has(version)),
    );
    if (claimed.size + elsewhere.size < 2) continue;
    const decided = currentVersionFor(bizName, list, claimed, versionOf);
    if (decided === undefined) continue;
    const current = decided.version;
    currentVersionOf.set(bizName, current);
    if (decided.fromWorkload) currentFromWorkload.add(bizName);
    if (!activated(moduleKey(bizName, current))) continue;
    for (const view of list) {
      const version = versionOf(view);
      if (version === current) continue;
      const deactivated = inventory.get(moduleKey(bizName, version))?.state === 'DEACTIVATED';
      superseded.set(view.uid, {
        reason: deactivated ? 'BizDeactivate' : 'Superseded',
        message: `${bizName}:${current} is the current version on this base${deactivated ? '; the base deactivated ' + version : ''}`,
      });
    }
  }

  /**
   * Which claimed version of `bizName` is current here: the workload's update target when one workload asks for
   * the module; otherwise (several workloads, bare pods) install order — the version activated last, or one
   * installed deactivated after it, or, while none runs, the one the newest pod asks for.
   */
  function currentVersionFor(
    bizName: string,
    list: readonly PodView[],
    claimed: ReadonlySet<string>,
    versionOf: (view: PodView) => string,
  ): { version: string; fromWorkload: boolean } | undefined {
    const workloads = new Set(list.map((view) => view.workload?.uid));
    const only = list[0]?.workload;
    if (workloads.size === 1 && only) {
      const version = facts.currentVersion(only, bizName);
      if (version !== undefined && claimed.has(version)) return { version, fromWorkload: true };
    }
    if (claimed.size === 1) {
      const [version] = claimed;
      return version === undefined ? undefined : { version, fromWorkload: false };
    }
    let latest: { version: string; at: number } | undefined;
    for (const version of claimed) {
      const status = inventory.get(moduleKey(bizName, version));
      if (status?.state !== 'ACTIVATED') continue;
      if (!latest || status.changeTime > latest.at) latest = { version, at: status.changeTime };
    }
    for (const version of claimed) {
      const status = inventory.get(moduleKey(bizName, version));
      const installedDeactivated = status?.state === 'DEACTIVATED' && status.reason !== 'SWITCHED';
      if (installedDeactivated && latest && status.changeTime > latest.at) {
        latest = { version, at: status.changeTime };
      }
    }
    if (latest) return { version: latest.version, fromWorkload: false };
    const newest = [...list].sort(
      (a, b) =>
        new Date(b.pod.metadata?.creationTimestamp ?? 0).getTime() -
        new Date(a.pod.metadata?.creationTimestamp ?? 0).getTime(),
    )[0];
    return newest ? { version: versionOf(newest), fromWorkload: false } : undefined;
  }

  // ---- base modes: detect, and update uninstall-first where the base cannot switch ------------------------------
  const installs: PlannedInstall[] = [];
  const uninstalls: PlannedUninstall[] = [];
  const planned = new Set<string>();
  const uninstall = (key: string, spec: ModuleSpec, reason: string, pod?: PodView) => {
    if (planned.has(key) || inFlight.has(key)) return;
    const failedAt = input.uninstallFailedAt.get(key);
    if (failedAt !== undefined && now - failedAt < UNINSTALL_RETRY_MS) {
      waits.push(failedAt + UNINSTALL_RETRY_MS - now);
      return;
    }
    planned.add(key);
    uninstalls.push({ key, spec, reason, pod });
  };
  const uninstallFirst = new Set<string>();
  if (usable && input.inventoryKnown) {
    for (const [bizName, current] of currentVersionOf) {
      const currentKey = moduleKey(bizName, current);
      const others = [...inventory.values()].filter((s) => s.bizName === bizName && s.bizVersion !== current);
      const state = inventory.get(currentKey)?.state;
      if (state === 'ACTIVATED') {
        if (mode === 'unknown' && others.some((s) => s.state === 'ACTIVATED')) mode = 'keeps-both';
        if (mode === 'unknown' && others.some((s) => s.state === 'DEACTIVATED')) mode = 'switches';
      } else if (state === 'DEACTIVATED' && others.some((s) => s.state === 'ACTIVATED')) {
        // The current version was deactivated by a later install (an undo back to it on a base that switches):
        // drop the deactivated copy and install it again, which activates it; the other serves until then.
        const installedAt = (key: string) => ledger.get(key) ?? 0;
        const switchedAway = others.some(
          (s) =>
            s.state === 'ACTIVATED' &&
            installedAt(moduleKey(bizName, s.bizVersion)) > installedAt(currentKey),
        );
        if (mode === 'switches' || (mode === 'unknown' && switchedAway)) {
          mode = 'switches';
          const claim = claims.get(currentKey);
          if (claim) {
            uninstall(
              currentKey,
              claim.spec,
              'reactivating: the base deactivated it when a later version was installed',
              claim.pods[0],
            );
          }
          continue;
        }
        if (mode !== 'installs-deactivated') {
          mode = 'installs-deactivated';
          notes.push({
            about: 'node',
            type: 'Warning',
            reason: 'UninstallFirst',
            message:
              `the base installed ${currentKey} deactivated and kept the old version active: it cannot switch over ` +
              'MQTT, so kmc updates it uninstall-first (old version out, new one reinstalled)',
          });
        }
        uninstallFirst.add(bizName);
        const claim = claims.get(currentKey);
        for (const other of others) {
          const spec = {
            bizName,
            bizVersion: other.bizVersion,
            bizUrl: urlOf(moduleKey(bizName, other.bizVersion)),
          };
          uninstall(
            moduleKey(bizName, other.bizVersion),
            spec,
            'uninstall-first: the old version goes first',
          );
          retentions = retentions.filter(
            (r) => !(r.bizName === bizName && r.bizVersion === other.bizVersion),
          );
        }
        if (claim) {
          uninstall(
            currentKey,
            claim.spec,
            'uninstall-first: reinstalled once the old version is out',
            claim.pods[0],
          );
          for (const view of claim.pods) {
            notes.push({
              about: view,
              type: 'Warning',
              reason: 'UninstallFirst',
              message: `the base cannot activate ${currentKey} beside the old version: updating it uninstall-first`,
            });
          }
        }
      }
    }
  }

  // ---- a claimed module deactivated with no version of it serving: reinstalling is the only way back up ------
  // (the version that replaced it was removed, or the base deactivated it on its own)
  if (usable && input.inventoryKnown) {
    for (const [key, claim] of claims) {
      const { bizName } = claim.spec;
      if (inventory.get(key)?.state !== 'DEACTIVATED' || uninstallFirst.has(bizName)) continue;
      const serving = [...inventory.values()].some((s) => s.bizName === bizName && s.state === 'ACTIVATED');
      if (!serving)
        uninstall(key, claim.spec, 'reactivating: deactivated, and no version of it serves', claim.pods[0]);
    }
  }

  function urlOf(key: string): string {
    for (const view of pods) {
      const spec = view.parsed.modules.find((m) => moduleKey(m.bizName, m.bizVersion) === key);
      if (spec) return spec.bizUrl;
    }
    return retentions.find((r) => moduleKey(r.bizName, r.bizVersion) === key)?.bizUrl ?? '';
  }

  // ---- installs: every claimed or retained instance the base lacks ------------------------------------------
  const desired = new Set<string>([
    ...claims.keys(),
    ...retentions.map((r) => moduleKey(r.bizName, r.bizVersion)),
  ]);
  if (usable && input.inventoryKnown) {
    const wanted: { key: string; spec: ModuleSpec; pod: PodView | undefined }[] = [
      ...[...claims].map(([key, claim]) => ({ key, spec: claim.spec, pod: claim.pods[0] })),
      ...retentions.map((r) => ({
        key: moduleKey(r.bizName, r.bizVersion),
        spec: { bizName: r.bizName, bizVersion: r.bizVersion, bizUrl: r.bizUrl },
        pod: undefined,
      })),
    ];
    for (const { key, spec, pod } of wanted) {
      if (planned.has(key) || inFlight.has(key) || inventory.has(key)) continue;
      // Uninstall-first in progress: the current version comes back only once the old one is out.
      if (uninstallFirst.has(spec.bizName)) continue;
      // Revision guard: never put an older version back beside the current version of the same workload.
      const current = currentVersionOf.get(spec.bizName);
      // On a base that cannot hold two active versions, the same holds across workloads and bare pods.
      if (
        (currentFromWorkload.has(spec.bizName) || mode === 'installs-deactivated') &&
        current !== undefined &&
        current !== spec.bizVersion &&
        claims.has(moduleKey(spec.bizName, current))
      )
        continue;
      planned.add(key);
      ledger.set(key, now);
      installs.push({ key, spec, pod });
    }
  }

  // ---- strays: what kmc installed and nobody claims any more ----------------------------------------------------
  if (usable && input.inventoryKnown) {
    // A claimed version of the same module on its way up (installing, or reinstalled to reactivate it): an
    // unclaimed version still ACTIVATED serves until then (an undo mid-install on a base that switches).
    const comingUp = new Set(
      [...claims]
        .filter(
          ([key, claim]) =>
            (currentVersionOf.get(claim.spec.bizName) ?? claim.spec.bizVersion) === claim.spec.bizVersion &&
            !['ACTIVATED', 'BROKEN'].includes(inventory.get(key)?.state ?? ''),
        )
        .map(([, claim]) => claim.spec.bizName),
    );
    for (const [key, status] of inventory) {
      if (desired.has(key) || !ledger.has(key)) continue;
      if (input.recentlyGone.has(key) || status.state === 'STOPPED') continue;
      if (status.state === 'ACTIVATED' && comingUp.has(status.bizName)) continue;
      const pod = pods.find(
        (view) =>
          view.deleting && view.parsed.modules.some((m) => moduleKey(m.bizName, m.bizVersion) === key),
      );
      const reason = pod
        ? `pod ${pod.pod.metadata?.namespace ?? ''}/${pod.pod.metadata?.name ?? ''} deleted`
        : 'no pod or retention claims it';
      uninstall(key, { ...parseModuleKey(key), bizUrl: urlOf(key) }, reason, pod);
    }
    for (const key of [...ledger.keys()]) {
      if (!inventory.has(key) && !inFlight.has(key) && !desired.has(key) && !planned.has(key))
        ledger.delete(key);
    }
  }

  for (const flight of inFlight.values()) waits.push(flight.sentAt + IN_FLIGHT_TIMEOUT_MS - now + 1);
  const positive = waits.filter((ms) => Number.isFinite(ms)).map((ms) => Math.max(ms, 100));
  return {
    records: { ledger: Object.fromEntries(ledger), retentions, mode },
    admit,
    hold,
    installs,
    uninstalls,
    finalize,
    superseded,
    notes,
    recheckAfterMs: positive.length > 0 ? Math.min(...positive) : undefined,
  };
}
