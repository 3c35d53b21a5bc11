import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Hold } from '../../../core/hold.ts';
import { IN_FLIGHT_TIMEOUT_MS, type InFlight } from '../../../core/module/base-modules.ts';
import {
  UNINSTALL_RETRY_MS,
  planBase,
  type BasePlan,
  type BasePlanInput,
  type PodView,
} from '../../../core/module/base-plan.ts';
import { moduleKey, type ModuleSpec } from '../../../core/module/module-pod.ts';
import {
  EMPTY_RECORDS,
  type ActivationMode,
  type NodeRecords,
  type Retention,
  type RetentionReason,
  type WorkloadRef,
} from '../../../core/module/node-records.ts';
import type { WorkloadFacts } from '../../../core/module/workload-facts.ts';
import type { BizState } from '../../../core/tunnel/protocol/biz-state.ts';
import type { BizStatus } from '../../../core/tunnel/tunnel.ts';

// ---- fixtures -------------------------------------------------------------------------------------------------

const NOW = 1_800_000_000_000;
const MAX_MS = 3_600_000;
const GRACE_MS = 30_000;

function workload(kind: string, name: string): WorkloadRef {
  return { kind, namespace: 'ns', name, uid: `uid-${name}` };
}
const APP = workload('Deployment', 'app');
const OTHER_APP = workload('Deployment', 'other');
const STS = workload('StatefulSet', 'sts');
const DS = workload('DaemonSet', 'ds');

function mod(bizName: string, bizVersion: string): ModuleSpec {
  return { bizName, bizVersion, bizUrl: `https://repo.example/${bizName}-${bizVersion}.jar` };
}
const V1 = mod('biz1', '1.0.0');
const V2 = mod('biz1', '2.0.0');
const OTHER_MODULE = mod('biz2', '1.0.0');
const key = (spec: ModuleSpec) => moduleKey(spec.bizName, spec.bizVersion);
const K1 = key(V1);
const K2 = key(V2);

interface PodOptions {
  readonly modules?: readonly ModuleSpec[];
  /** Default true; false: awaiting (or held by) the install gate. */
  readonly admitted?: boolean;
  /** The pod has a deletionTimestamp; its grace ends at `deletionDeadline` (default NOW + 30 s). */
  readonly deleting?: boolean;
  readonly deletionDeadline?: number;
  readonly disrupted?: boolean;
  readonly workload?: WorkloadRef;
  /** Default true. */
  readonly currentRevision?: boolean;
  /** Default true. */
  readonly isModulePod?: boolean;
  /** A container that is not a module: parsed.ok false. */
  readonly invalid?: boolean;
}

/** A pod bound to the base, as the module controller sees it. */
function podView(name: string, options: PodOptions = {}): PodView {
  const modules = options.modules ?? [V1];
  const pod: V1Pod = {
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: {
      nodeName: 'virtual-node-base-1',
      containers: modules.map((m) => ({
        name: m.bizName,
        image: m.bizUrl,
        env: [{ name: 'BIZ_VERSION', value: m.bizVersion }],
      })),
    },
  };
  const deleting = options.deleting ?? options.deletionDeadline !== undefined;
  return {
    pod,
    uid: `uid-${name}`,
    isModulePod: options.isModulePod ?? true,
    parsed: options.invalid
      ? {
          ok: false,
          modules,
          invalid: [{ container: 'sidecar', reason: 'InvalidModuleImage', message: 'not a jar' }],
        }
      : { ok: true, modules },
    admitted: options.admitted ?? true,
    deleting,
    deletionDeadline: deleting ? (options.deletionDeadline ?? NOW + GRACE_MS) : undefined,
    disrupted: options.disrupted ?? false,
    workload: options.workload,
    currentRevision: options.currentRevision ?? true,
  };
}

interface FactsOptions {
  /** workload uid → bizName → the version of its update target */
  readonly current?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly rollingOut?: readonly WorkloadRef[];
  readonly allReady?: readonly WorkloadRef[];
  readonly gone?: readonly WorkloadRef[];
}

/** A WorkloadFacts stub: the planner never asks ownerOf / isCurrentRevision (the views carry them). */
function facts(options: FactsOptions = {}): WorkloadFacts {
  const has = (list: readonly WorkloadRef[] | undefined, w: WorkloadRef) =>
    list?.some((x) => x.uid === w.uid) ?? false;
  return {
    ownerOf: () => undefined,
    isCurrentRevision: () => true,
    currentVersion: (w, bizName) => options.current?.[w.uid]?.[bizName],
    isRollingOut: (w) => has(options.rollingOut, w),
    hasAllReady: (w) => has(options.allReady, w),
    exists: (w) => !has(options.gone, w),
  };
}

/** APP's update target asks for biz1:2.0.0 and it is rolling out. */
const APP_ROLLING_TO_V2: FactsOptions = { current: { [APP.uid]: { biz1: '2.0.0' } }, rollingOut: [APP] };

function biz(
  spec: ModuleSpec,
  state: BizState | undefined,
  more: { changeTime?: number; reason?: string } = {},
): BizStatus {
  return {
    bizName: spec.bizName,
    bizVersion: spec.bizVersion,
    state,
    rawState: state ?? 'unknown',
    reason: more.reason,
    message: undefined,
    changeTime: more.changeTime ?? NOW - 60_000,
  };
}

function inventory(...items: BizStatus[]): Map<string, BizStatus> {
  return new Map(items.map((item) => [moduleKey(item.bizName, item.bizVersion), item]));
}

function records(
  options: { ledger?: readonly ModuleSpec[]; retentions?: readonly Retention[]; mode?: ActivationMode } = {},
): NodeRecords {
  return {
    ledger: Object.fromEntries((options.ledger ?? []).map((spec) => [key(spec), NOW - 3_600_000])),
    retentions: options.retentions ?? [],
    mode: options.mode ?? 'unknown',
  };
}

function retention(
  spec: ModuleSpec,
  reason: RetentionReason,
  owner: WorkloadRef,
  since: number = NOW - 10_000,
): Retention {
  return { ...spec, reason, workload: owner, podUid: 'uid-gone-pod', since };
}

function inFlight(op: InFlight['op'], sentAt: number = NOW - 1000): InFlight {
  return { op, sentAt };
}

/** A base that is alive, trusted, with a known and empty inventory, unless told otherwise. */
function plan(input: Partial<BasePlanInput> = {}): BasePlan {
  return planBase({
    now: NOW,
    baseAlive: true,
    baseGone: false,
    baseTrusted: true,
    inventoryKnown: true,
    pods: [],
    inventory: new Map(),
    inFlight: new Map(),
    recentlyGone: new Map(),
    uninstallFailedAt: new Map(),
    records: EMPTY_RECORDS,
    facts: facts(),
    gate: new Map(),
    retentionMaxMs: MAX_MS,
    ...input,
  });
}

const installKeys = (result: BasePlan) => result.installs.map((i) => i.key);
const uninstallKeys = (result: BasePlan) => result.uninstalls.map((u) => u.key);
const finalized = (result: BasePlan) => result.finalize.map((v) => v.uid);
const notesOf = (result: BasePlan, reason: string) => result.notes.filter((n) => n.reason === reason);

const HOLD: Hold = { reason: 'BatchFull', message: 'batch 1 is full', recheckAfterMs: 5000 };

// ---- the install gate ------------------------------------------------------------------------------------------

describe('planBase: the install gate', () => {
  it('admits a pod the gate lets through, installs its module and records the install in the ledger', () => {
    const pod = podView('p', { admitted: false });
    const result = plan({ pods: [pod], gate: new Map([[pod.uid, undefined]]) });
    expect(result.admit).toEqual([pod]);
    expect(result.hold).toEqual([]);
    expect(result.installs).toEqual([{ key: K1, spec: V1, pod }]);
    expect(result.records.ledger).toEqual({ [K1]: NOW });
  });

  it('holds a pod the gate holds: nothing is installed for it and its hold says when to look again', () => {
    const pod = podView('p', { admitted: false });
    const result = plan({ pods: [pod], gate: new Map([[pod.uid, HOLD]]) });
    expect(result.hold).toEqual([{ pod, hold: HOLD }]);
    expect(result.admit).toEqual([]);
    expect(result.installs).toEqual([]);
    expect(result.records.ledger).toEqual({});
    expect(result.recheckAfterMs).toBe(5000);
  });

  it('lets a held pod claim nothing: a ledgered instance only it asks for is a stray', () => {
    const pod = podView('p', { admitted: false });
    const result = plan({
      pods: [pod],
      gate: new Map([[pod.uid, HOLD]]),
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('finalizes the deletion of a held pod at once and sends no uninstall for its module', () => {
    const held = podView('held', { admitted: false, deleting: true });
    const running = podView('running');
    const result = plan({
      pods: [held, running],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(finalized(result)).toEqual([held.uid]);
    expect(result.uninstalls).toEqual([]);
  });

  it('finalizes the deletion of a held pod at once, without waiting on the instance it asked for', () => {
    const held = podView('held', { admitted: false, deleting: true });
    const result = plan({
      pods: [held],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(finalized(result)).toEqual([held.uid]);
  });

  it('finalizes the deletion of a held pod even while the base has not been heard since a restart', () => {
    const held = podView('held', { admitted: false, deleting: true });
    const result = plan({ pods: [held], baseAlive: false, baseTrusted: false });
    expect(finalized(result)).toEqual([held.uid]);
  });

  it('neither admits nor holds a pod the gate has not answered', () => {
    const pod = podView('p', { admitted: false });
    const result = plan({ pods: [pod] });
    expect(result.admit).toEqual([]);
    expect(result.hold).toEqual([]);
    expect(result.installs).toEqual([]);
  });

  it.each([
    ['not alive', { baseAlive: false }],
    ['not heard since the restart', { baseTrusted: false }],
  ])('admits nothing while the base is %s', (_what, state) => {
    const pod = podView('p', { admitted: false });
    const result = plan({ ...state, pods: [pod], gate: new Map([[pod.uid, undefined]]) });
    expect(result.admit).toEqual([]);
    expect(result.installs).toEqual([]);
  });

  it('passes only pods awaiting admission through the gate', () => {
    const pods = [
      podView('admitted'),
      podView('deleting', { admitted: false, deleting: true }),
      podView('invalid', { admitted: false, invalid: true }),
      podView('foreign', { admitted: false, isModulePod: false }),
    ];
    const result = plan({ pods, gate: new Map(pods.map((p) => [p.uid, HOLD])) });
    expect(result.hold).toEqual([]);
    expect(result.admit).toEqual([]);
  });
});

// ---- installs ------------------------------------------------------------------------------------------------

describe('planBase: installs', () => {
  it.each([
    ['not alive', { baseAlive: false }],
    ['not heard since the restart', { baseTrusted: false }],
    ['of unknown inventory', { inventoryKnown: false }],
  ])('installs nothing on a base that is %s', (_what, state) => {
    const result = plan({ ...state, pods: [podView('p')] });
    expect(result.installs).toEqual([]);
    expect(result.records.ledger).toEqual({});
  });

  it('installs the module of an admitted pod when the base lacks it', () => {
    const pod = podView('p');
    expect(plan({ pods: [pod] }).installs).toEqual([{ key: K1, spec: V1, pod }]);
  });

  it('does not install an instance whose operation is in flight', () => {
    const result = plan({ pods: [podView('p')], inFlight: new Map([[K1, inFlight('install')]]) });
    expect(result.installs).toEqual([]);
  });

  it.each([
    ['ACTIVATED', 'ACTIVATED'],
    ['DEACTIVATED', 'DEACTIVATED'],
    ['present in an unknown state (REPEAT_BIZ)', undefined],
  ] as const)('does not install an instance the base reports %s', (_what, state) => {
    const result = plan({ pods: [podView('p')], inventory: inventory(biz(V1, state)) });
    expect(result.installs).toEqual([]);
  });

  it('adopts a module already ACTIVATED on the base: no install and no ledger entry', () => {
    const pod = podView('p', { admitted: false });
    const result = plan({
      pods: [pod],
      gate: new Map([[pod.uid, undefined]]),
      inventory: inventory(biz(V1, 'ACTIVATED')),
    });
    expect(result.admit).toEqual([pod]);
    expect(result.installs).toEqual([]);
    expect(result.records.ledger).toEqual({});
  });

  it('adopts an instance REPEAT_BIZ reported as present in an unknown state', () => {
    const result = plan({ pods: [podView('p')], inventory: inventory(biz(V1, undefined)) });
    expect(result.installs).toEqual([]);
    expect(result.uninstalls).toEqual([]);
  });

  it('keeps existing ledger entries and adds the new key with the time of the install', () => {
    const result = plan({
      pods: [podView('p', { modules: [V1, OTHER_MODULE] })],
      inventory: inventory(biz(OTHER_MODULE, 'ACTIVATED')),
      records: records({ ledger: [OTHER_MODULE] }),
    });
    expect(installKeys(result)).toEqual([K1]);
    expect(result.records.ledger).toEqual({ [key(OTHER_MODULE)]: NOW - 3_600_000, [K1]: NOW });
  });

  it('installs every module of a multi-module pod, and each key once when two pods claim it', () => {
    const first = podView('first', { modules: [V1, OTHER_MODULE] });
    const second = podView('second', { modules: [V1] });
    const result = plan({ pods: [first, second] });
    expect(result.installs).toEqual([
      { key: K1, spec: V1, pod: first },
      { key: key(OTHER_MODULE), spec: OTHER_MODULE, pod: first },
    ]);
  });

  it('installs nothing for an invalid pod, even if it is marked admitted', () => {
    expect(plan({ pods: [podView('p', { invalid: true })] }).installs).toEqual([]);
  });

  it('reinstalls a retained instance the base lacks, with no pod', () => {
    const result = plan({
      records: records({ retentions: [retention(V1, 'disruption', STS)] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.installs).toEqual([{ key: K1, spec: V1, pod: undefined }]);
  });
});

// ---- deletion ------------------------------------------------------------------------------------------------

describe('planBase: deleted pods', () => {
  it('finalizes a deleted pod whose module another admitted pod on the base claims, without uninstalling', () => {
    const leaving = podView('leaving', { deleting: true });
    const staying = podView('staying');
    const result = plan({
      pods: [leaving, staying],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(finalized(result)).toEqual([leaving.uid]);
    expect(result.uninstalls).toEqual([]);
    expect(result.records.retentions).toEqual([]);
  });

  it('records no retention, and reports none released, when another pod of the rolling-out workload still claims the instance', () => {
    const leaving = podView('leaving', { deleting: true, workload: APP, currentRevision: false });
    const staying = podView('staying', { workload: APP, currentRevision: false });
    const result = plan({
      pods: [leaving, staying],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(finalized(result)).toEqual([leaving.uid]);
    expect(result.uninstalls).toEqual([]);
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionReleased')).toEqual([]);
  });

  it('uninstalls the last claim and keeps the pod until the instance is gone, looking again at the deadline', () => {
    const leaving = podView('leaving', { deleting: true });
    const result = plan({
      pods: [leaving],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(result.uninstalls).toEqual([
      { key: K1, spec: V1, reason: 'pod ns/leaving deleted', pod: leaving },
    ]);
    expect(result.finalize).toEqual([]);
    expect(result.recheckAfterMs).toBe(GRACE_MS);
  });

  it('finalizes the pod once the base no longer reports the instance, and drops it from the ledger', () => {
    const leaving = podView('leaving', { deleting: true });
    const result = plan({ pods: [leaving], records: records({ ledger: [V1] }) });
    expect(finalized(result)).toEqual([leaving.uid]);
    expect(result.uninstalls).toEqual([]);
    expect(result.records.ledger).toEqual({});
  });

  it('waits while the uninstall is in flight, without sending it again', () => {
    const leaving = podView('leaving', { deleting: true });
    const result = plan({
      pods: [leaving],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      inFlight: new Map([[K1, inFlight('uninstall', NOW - 1000)]]),
      records: records({ ledger: [V1] }),
    });
    expect(result.finalize).toEqual([]);
    expect(result.uninstalls).toEqual([]);
    expect(result.records.ledger).toEqual({ [K1]: NOW - 3_600_000 });
  });

  it('finalizes the pod when its grace has run out, though the instance is still there', () => {
    const leaving = podView('leaving', { deletionDeadline: NOW });
    const result = plan({
      pods: [leaving],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(finalized(result)).toEqual([leaving.uid]);
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('finalizes at once and never uninstalls a module kmc did not install (statically merged or adopted)', () => {
    const leaving = podView('leaving', { deleting: true });
    const result = plan({ pods: [leaving], inventory: inventory(biz(V1, 'ACTIVATED')) });
    expect(finalized(result)).toEqual([leaving.uid]);
    expect(result.uninstalls).toEqual([]);
    expect(result.recheckAfterMs).toBeUndefined();
  });

  it('counts an instance reported STOPPED as gone', () => {
    const leaving = podView('leaving', { deleting: true });
    const result = plan({
      pods: [leaving],
      inventory: inventory(biz(V1, 'STOPPED')),
      records: records({ ledger: [V1] }),
    });
    expect(finalized(result)).toEqual([leaving.uid]);
    expect(result.uninstalls).toEqual([]);
  });

  it('waits for every module of a multi-module pod', () => {
    const leaving = podView('leaving', { deleting: true, modules: [V1, OTHER_MODULE] });
    const result = plan({
      pods: [leaving],
      inventory: inventory(biz(OTHER_MODULE, 'ACTIVATED')),
      records: records({ ledger: [V1, OTHER_MODULE] }),
    });
    expect(result.finalize).toEqual([]);
    expect(uninstallKeys(result)).toEqual([key(OTHER_MODULE)]);
  });

  it('finalizes deleting pods of a gone base at once, with no retention, uninstall or install', () => {
    const evicted = podView('evicted', { deleting: true, disrupted: true, workload: STS });
    const rolled = podView('rolled', {
      deleting: true,
      workload: APP,
      currentRevision: false,
      modules: [OTHER_MODULE],
    });
    const result = plan({
      baseAlive: false,
      baseGone: true,
      pods: [evicted, rolled, podView('new', { workload: APP, modules: [V2] })],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(OTHER_MODULE, 'ACTIVATED')),
      records: records({ ledger: [V1, OTHER_MODULE] }),
      facts: facts({ ...APP_ROLLING_TO_V2, current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(finalized(result)).toEqual([evicted.uid, rolled.uid]);
    expect(result.records.retentions).toEqual([]);
    expect(result.uninstalls).toEqual([]);
    expect(result.installs).toEqual([]);
  });

  it('leaves deleting admitted pods alone on a base neither alive nor gone (not heard since a restart)', () => {
    const leaving = podView('leaving', { deleting: true });
    const result = plan({
      baseAlive: false,
      baseGone: false,
      baseTrusted: false,
      pods: [leaving],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(result.finalize).toEqual([]);
    expect(result.uninstalls).toEqual([]);
    expect(result.records).toEqual(records({ ledger: [V1] }));
  });

  it('leaves deleting admitted pods alone on an alive base not yet heard since the restart', () => {
    const leaving = podView('leaving', { deleting: true, disrupted: true, workload: STS });
    const result = plan({
      baseTrusted: false,
      pods: [leaving],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(result.finalize).toEqual([]);
    expect(result.uninstalls).toEqual([]);
    expect(result.records.retentions).toEqual([]);
  });

  it('leaves a deleting admitted pod alone until the base inventory is known', () => {
    const evicted = podView('evicted', { deleting: true, disrupted: true, workload: STS });
    const result = plan({
      inventoryKnown: false,
      pods: [evicted],
      records: records({ ledger: [V1] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.finalize).toEqual([]);
    expect(result.uninstalls).toEqual([]);
  });

  it('finalizes deleted pods that are foreign, never admitted or invalid at once, whatever the base state', () => {
    const pods = [
      podView('foreign', { deleting: true, isModulePod: false }),
      podView('unadmitted', { deleting: true, admitted: false }),
      podView('invalid', { deleting: true, invalid: true }),
    ];
    const result = plan({ baseAlive: false, baseTrusted: false, pods });
    expect(finalized(result)).toEqual(pods.map((p) => p.uid));
  });

  it('retries a failed uninstall only after UNINSTALL_RETRY_MS, looking again then', () => {
    const leaving = podView('leaving', { deleting: true });
    const input: Partial<BasePlanInput> = {
      pods: [leaving],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    };
    const soon = plan({ ...input, uninstallFailedAt: new Map([[K1, NOW - 10_000]]) });
    expect(soon.uninstalls).toEqual([]);
    expect(soon.finalize).toEqual([]);
    expect(soon.recheckAfterMs).toBe(UNINSTALL_RETRY_MS - 10_000);
    const later = plan({ ...input, uninstallFailedAt: new Map([[K1, NOW - UNINSTALL_RETRY_MS]]) });
    expect(uninstallKeys(later)).toEqual([K1]);
  });
});

// ---- retentions: recording -------------------------------------------------------------------------------------

describe('planBase: recording retentions', () => {
  it('retains the instance of a rolling-out Deployment pod deleted before the current version is ACTIVATED here', () => {
    const old = podView('old', { deleting: true, workload: APP, currentRevision: false });
    const result = plan({
      pods: [old],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions).toEqual([
      { ...V1, reason: 'rollout', workload: APP, podUid: old.uid, since: NOW },
    ]);
    expect(finalized(result)).toEqual([old.uid]);
    expect(result.uninstalls).toEqual([]);
    expect(result.installs).toEqual([]);
    expect(result.recheckAfterMs).toBeUndefined();
  });

  it('retains it while the current-revision pod on the base is still installing the current version', () => {
    const old = podView('old', { deleting: true, workload: APP, currentRevision: false });
    const current = podView('current', { workload: APP, modules: [V2] });
    const result = plan({
      pods: [old, current],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      inFlight: new Map([[K2, inFlight('install')]]),
      records: records({ ledger: [V1, V2] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions.map((r) => [r.bizVersion, r.reason])).toEqual([['1.0.0', 'rollout']]);
    expect(finalized(result)).toEqual([old.uid]);
    expect(result.uninstalls).toEqual([]);
  });

  it('uninstalls instead when a current-revision pod here already has the current version ACTIVATED', () => {
    const old = podView('old', { deleting: true, workload: APP, currentRevision: false });
    const current = podView('current', { workload: APP, modules: [V2] });
    const result = plan({
      pods: [old, current],
      inventory: inventory(biz(V1, 'DEACTIVATED'), biz(V2, 'ACTIVATED')),
      records: records({ ledger: [V1, V2] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions).toEqual([]);
    expect(uninstallKeys(result)).toEqual([K1]);
    expect(result.finalize).toEqual([]);
  });

  it('does not count an ACTIVATED current version claimed only by a pod of another revision', () => {
    const old = podView('old', { deleting: true, workload: APP, currentRevision: false });
    const stale = podView('stale', { workload: APP, modules: [V2], currentRevision: false });
    const result = plan({
      pods: [old, stale],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      records: records({ ledger: [V1, V2] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions.map((r) => r.reason)).toEqual(['rollout']);
  });

  it('uninstalls, with no retention, the instance of a deleted pod of the revision being rolled out', () => {
    const beta = podView('beta', { deleting: true, workload: APP, modules: [V2] });
    const old = podView('old', { workload: APP, currentRevision: false });
    const result = plan({
      pods: [beta, old],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      records: records({ ledger: [V1, V2] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions).toEqual([]);
    expect(uninstallKeys(result)).toEqual([K2]);
  });

  it('retains the instance of an older-revision pod of the same version (kubectl rollout restart)', () => {
    const old = podView('old', { deleting: true, workload: APP, currentRevision: false });
    const result = plan({
      pods: [old],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
      facts: facts({ ...APP_ROLLING_TO_V2, current: { [APP.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions.map((r) => [r.bizVersion, r.reason])).toEqual([['1.0.0', 'rollout']]);
    expect(result.uninstalls).toEqual([]);
  });

  it('uninstalls the last claim of a Deployment that is not rolling out', () => {
    const old = podView('old', { deleting: true, workload: APP });
    const result = plan({
      pods: [old],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
      facts: facts({ current: { [APP.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('keeps rollout retentions to Deployments', () => {
    const old = podView('old', { deleting: true, workload: STS, currentRevision: false });
    const result = plan({
      pods: [old],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
      facts: facts({ current: { [STS.uid]: { biz1: '2.0.0' } }, rollingOut: [STS] }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it.each([APP, STS, DS])(
    'retains the instance of an evicted pod of a $kind while the base is alive',
    (owner) => {
      const evicted = podView('evicted', { deleting: true, disrupted: true, workload: owner });
      const result = plan({
        pods: [evicted],
        inventory: inventory(biz(V1, 'ACTIVATED')),
        records: records({ ledger: [V1] }),
        facts: facts({ current: { [owner.uid]: { biz1: '1.0.0' } } }),
      });
      expect(result.records.retentions).toEqual([
        { ...V1, reason: 'disruption', workload: owner, podUid: evicted.uid, since: NOW },
      ]);
      expect(finalized(result)).toEqual([evicted.uid]);
      expect(result.uninstalls).toEqual([]);
      expect(result.recheckAfterMs).toBe(MAX_MS);
    },
  );

  it('retains nothing for an evicted bare pod: it is the last claim and is uninstalled', () => {
    const evicted = podView('evicted', { deleting: true, disrupted: true });
    const result = plan({
      pods: [evicted],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('retains nothing when the instance is not on the base', () => {
    const evicted = podView('evicted', { deleting: true, disrupted: true, workload: STS });
    const result = plan({
      pods: [evicted],
      records: records({ ledger: [V1] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(finalized(result)).toEqual([evicted.uid]);
  });

  it('does not record a second retention of the same instance for the same workload', () => {
    const existing = retention(V1, 'disruption', STS, NOW - 5000);
    const evicted = podView('evicted', { deleting: true, disrupted: true, workload: STS });
    const result = plan({
      pods: [evicted],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1], retentions: [existing] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([existing]);
  });

  it('keeps a retained instance installed: it is neither a stray nor dropped from the ledger', () => {
    const result = plan({
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1], retentions: [retention(V1, 'rollout', APP)] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.uninstalls).toEqual([]);
    expect(result.records.ledger).toEqual({ [K1]: NOW - 3_600_000 });
  });
});

// ---- retentions: release ---------------------------------------------------------------------------------------

describe('planBase: releasing retentions', () => {
  const installedV1 = { inventory: inventory(biz(V1, 'ACTIVATED')) };

  it('releases a retention an admitted pod on the base adopts, installing nothing', () => {
    const adopter = podView('adopter', { workload: APP });
    const result = plan({
      ...installedV1,
      pods: [adopter],
      records: records({ ledger: [V1], retentions: [retention(V1, 'rollout', APP)] }),
      facts: facts({ current: { [APP.uid]: { biz1: '1.0.0' } }, rollingOut: [APP] }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionReleased')).toEqual([
      {
        about: 'node',
        type: 'Normal',
        reason: 'RetentionReleased',
        message: 'biz1:1.0.0 of Deployment ns/app (rollout): adopted by a pod on this base',
      },
    ]);
    expect(result.installs).toEqual([]);
    expect(result.uninstalls).toEqual([]);
  });

  it('does not let a held pod adopt a retention', () => {
    const held = podView('held', { workload: STS, admitted: false });
    const kept = retention(V1, 'disruption', STS);
    const result = plan({
      ...installedV1,
      pods: [held],
      gate: new Map([[held.uid, HOLD]]),
      records: records({ ledger: [V1], retentions: [kept] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([kept]);
  });

  it.each<[string, RetentionReason]>([
    ['rollout', 'rollout'],
    ['disruption', 'disruption'],
  ])(
    'releases a %s retention whose workload is gone, and the instance is then uninstalled',
    (_what, reason) => {
      const result = plan({
        ...installedV1,
        records: records({ ledger: [V1], retentions: [retention(V1, reason, APP)] }),
        facts: facts({ ...APP_ROLLING_TO_V2, gone: [APP] }),
      });
      expect(result.records.retentions).toEqual([]);
      expect(notesOf(result, 'RetentionReleased')[0]?.message).toContain('the workload is gone');
      expect(uninstallKeys(result)).toEqual([K1]);
    },
  );

  it('releases a rollout retention once a current-revision pod runs the current version here', () => {
    const current = podView('current', { workload: APP, modules: [V2] });
    const result = plan({
      pods: [current],
      inventory: inventory(biz(V1, 'DEACTIVATED'), biz(V2, 'ACTIVATED')),
      records: records({ ledger: [V1, V2], retentions: [retention(V1, 'rollout', APP)] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionReleased')[0]?.message).toContain('the current version runs here');
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('releases a rollout retention when the rollout ended with no current-revision pod on the base', () => {
    const result = plan({
      ...installedV1,
      records: records({ ledger: [V1], retentions: [retention(V1, 'rollout', APP)] }),
      facts: facts({ current: { [APP.uid]: { biz1: '2.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionReleased')[0]?.message).toContain('the rollout ended');
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('keeps a rollout retention after the rollout while a current-revision pod here still gets the current version', () => {
    const kept = retention(V1, 'rollout', APP, NOW - 1000);
    const current = podView('current', { workload: APP, modules: [V2] });
    const result = plan({
      ...installedV1,
      pods: [current],
      inFlight: new Map([[K2, inFlight('install', NOW)]]),
      records: records({ ledger: [V1, V2], retentions: [kept] }),
      facts: facts({ current: { [APP.uid]: { biz1: '2.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([kept]);
    expect(result.uninstalls).toEqual([]);
  });

  it('never expires a rollout retention while its rollout goes on', () => {
    const kept = retention(V1, 'rollout', APP, NOW - 2 * MAX_MS);
    const result = plan({
      ...installedV1,
      records: records({ ledger: [V1], retentions: [kept] }),
      facts: facts(APP_ROLLING_TO_V2),
    });
    expect(result.records.retentions).toEqual([kept]);
    expect(result.notes).toEqual([]);
    expect(result.recheckAfterMs).toBeUndefined();
  });

  it('expires a rollout retention at the limit once its rollout has ended', () => {
    const current = podView('current', { workload: APP, modules: [V2] });
    const result = plan({
      ...installedV1,
      pods: [current],
      inFlight: new Map([[K2, inFlight('install', NOW)]]),
      records: records({ ledger: [V1, V2], retentions: [retention(V1, 'rollout', APP, NOW - MAX_MS)] }),
      facts: facts({ current: { [APP.uid]: { biz1: '2.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionExpired')).toHaveLength(1);
  });

  it('releases a disruption retention when the workload has all its Ready pods', () => {
    const result = plan({
      ...installedV1,
      records: records({ ledger: [V1], retentions: [retention(V1, 'disruption', STS)] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } }, allReady: [STS] }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionReleased')[0]?.message).toContain('all its Ready pods');
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it('releases a disruption retention when the workload no longer asks for the module', () => {
    const result = plan({
      ...installedV1,
      records: records({ ledger: [V1], retentions: [retention(V1, 'disruption', STS)] }),
      facts: facts({ current: { [STS.uid]: { biz2: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(notesOf(result, 'RetentionReleased')[0]?.message).toContain('no longer asks for it');
  });

  it('keeps a disruption retention otherwise, looking again when it would expire', () => {
    const kept = retention(V1, 'disruption', STS, NOW - 1000);
    const result = plan({
      ...installedV1,
      records: records({ ledger: [V1], retentions: [kept] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([kept]);
    expect(result.notes).toEqual([]);
    expect(result.uninstalls).toEqual([]);
    expect(result.recheckAfterMs).toBe(MAX_MS - 1000);
  });

  it('releases a disruption retention at the limit with a RetentionExpired warning, and uninstalls it', () => {
    const result = plan({
      ...installedV1,
      records: records({ ledger: [V1], retentions: [retention(V1, 'disruption', STS, NOW - MAX_MS)] }),
      facts: facts({ current: { [STS.uid]: { biz1: '1.0.0' } } }),
    });
    expect(result.records.retentions).toEqual([]);
    expect(result.notes).toEqual([
      {
        about: 'node',
        type: 'Warning',
        reason: 'RetentionExpired',
        message: 'biz1:1.0.0 kept for StatefulSet ns/sts for 3600 s: released at the retention limit',
      },
    ]);
    expect(uninstallKeys(result)).toEqual([K1]);
  });

  it.each([
    ['not heard since a restart', { baseAlive: false, baseGone: false, baseTrusted: false }],
    ['gone', { baseAlive: false, baseGone: true }],
  ])('releases nothing while the base is %s', (_what, state) => {
    const kept = retention(V1, 'disruption', STS, NOW - 2 * MAX_MS);
    const result = plan({
      ...state,
      ...installedV1,
      records: records({ ledger: [V1], retentions: [kept] }),
      facts: facts({ gone: [STS] }),
    });
    expect(result.records.retentions).toEqual([kept]);
    expect(result.notes).toEqual([]);
  });
});

// ---- strays --------------------------------------------------------------------------------------------------

describe('planBase: stray instances', () => {
  it('uninstalls a ledgered instance that nothing claims', () => {
    const result = plan({ inventory: inventory(biz(V1, 'ACTIVATED')), records: records({ ledger: [V1] }) });
    expect(result.uninstalls).toEqual([
      {
        key: K1,
        spec: { bizName: 'biz1', bizVersion: '1.0.0', bizUrl: '' },
        reason: 'no pod or retention claims it',
        pod: undefined,
      },
    ]);
  });

  it('never uninstalls an instance missing from the ledger (statically merged into the base)', () => {
    const result = plan({ inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'DEACTIVATED')) });
    expect(result.uninstalls).toEqual([]);
  });

  it('does not uninstall a key just reported gone (no uninstall ping-pong)', () => {
    const result = plan({
      inventory: inventory(biz(V1, 'ACTIVATED')),
      recentlyGone: new Map([[K1, NOW - 1000]]),
      records: records({ ledger: [V1] }),
    });
    expect(result.uninstalls).toEqual([]);
  });

  it('does not uninstall a key reported STOPPED', () => {
    const result = plan({ inventory: inventory(biz(V1, 'STOPPED')), records: records({ ledger: [V1] }) });
    expect(result.uninstalls).toEqual([]);
  });

  it.each(['install', 'uninstall'] as const)(
    'does not uninstall a key while an %s of it is in flight',
    (op) => {
      const result = plan({
        inventory: inventory(biz(V1, 'ACTIVATED')),
        inFlight: new Map([[K1, inFlight(op)]]),
        records: records({ ledger: [V1] }),
      });
      expect(result.uninstalls).toEqual([]);
    },
  );

  it.each([
    ['not alive', { baseAlive: false }],
    ['not heard since the restart', { baseTrusted: false }],
    ['of unknown inventory', { inventoryKnown: false }],
  ])('uninstalls no stray on a base that is %s', (_what, state) => {
    const result = plan({
      ...state,
      inventory: inventory(biz(V1, 'ACTIVATED')),
      records: records({ ledger: [V1] }),
    });
    expect(result.uninstalls).toEqual([]);
    expect(result.records.ledger).toEqual({ [K1]: NOW - 3_600_000 });
  });

  it('drops ledger keys the base no longer reports and nobody wants', () => {
    const result = plan({ records: records({ ledger: [V1, V2] }) });
    expect(result.records.ledger).toEqual({});
  });

  it('keeps ledger keys with an operation in flight, and keys that are still wanted', () => {
    const result = plan({
      pods: [podView('p', { modules: [V2] })],
      inFlight: new Map([
        [K1, inFlight('install')],
        [K2, inFlight('install')],
      ]),
      records: records({ ledger: [V1, V2] }),
    });
    expect(Object.keys(result.records.ledger).sort()).toEqual([K1, K2]);
  });
});

// ---- supersession and modes ------------------------------------------------------------------------------------

describe('planBase: supersession', () => {
  const oldPod = podView('old', { workload: APP, modules: [V1], currentRevision: false });
  const newPod = podView('new', { workload: APP, modules: [V2] });
  const appAtV2 = facts({ current: { [APP.uid]: { biz1: '2.0.0' } }, rollingOut: [APP] });

  it('marks old-version pods of the workload Superseded when the base keeps both versions ACTIVATED', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      facts: appAtV2,
    });
    expect([...result.superseded]).toEqual([
      [oldPod.uid, { reason: 'Superseded', message: 'biz1:2.0.0 is the current version on this base' }],
    ]);
    expect(result.records.mode).toBe('keeps-both');
  });

  it('marks them BizDeactivate when the base deactivated the old version', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(biz(V1, 'DEACTIVATED', { reason: 'SWITCHED' }), biz(V2, 'ACTIVATED')),
      facts: appAtV2,
    });
    expect(result.superseded.get(oldPod.uid)).toEqual({
      reason: 'BizDeactivate',
      message: 'biz1:2.0.0 is the current version on this base; the base deactivated 1.0.0',
    });
    expect(result.superseded.has(newPod.uid)).toBe(false);
    expect(result.records.mode).toBe('switches');
  });

  it('supersedes nothing until the current version is ACTIVATED', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      inFlight: new Map([[K2, inFlight('install')]]),
      facts: appAtV2,
    });
    expect(result.superseded.size).toBe(0);
  });

  it("takes the workload's current version, never the higher version string (a rollback)", () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(
        biz(V1, 'ACTIVATED', { changeTime: NOW - 1000 }),
        biz(V2, 'ACTIVATED', { changeTime: NOW }),
      ),
      facts: facts({ current: { [APP.uid]: { biz1: '1.0.0' } }, rollingOut: [APP] }),
    });
    expect([...result.superseded.keys()]).toEqual([newPod.uid]);
  });

  it.each([
    ['across workloads', APP, OTHER_APP],
    ['for bare pods', undefined, undefined],
  ])('takes the version activated last as current %s', (_what, first, second) => {
    const a = podView('a', { modules: [V1], ...(first ? { workload: first } : {}) });
    const b = podView('b', { modules: [V2], ...(second ? { workload: second } : {}) });
    const result = plan({
      pods: [a, b],
      inventory: inventory(
        biz(V1, 'ACTIVATED', { changeTime: NOW - 1000 }),
        biz(V2, 'ACTIVATED', { changeTime: NOW - 5000 }),
      ),
      facts: facts({ current: { [APP.uid]: { biz1: '1.0.0' }, [OTHER_APP.uid]: { biz1: '2.0.0' } } }),
    });
    expect([...result.superseded.keys()]).toEqual([b.uid]);
  });

  it('falls back to install order when the workload asks for a version no pod here has', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(
        biz(V1, 'ACTIVATED', { changeTime: NOW }),
        biz(V2, 'ACTIVATED', { changeTime: NOW - 1 }),
      ),
      facts: facts({ current: { [APP.uid]: { biz1: '3.0.0' } } }),
    });
    expect([...result.superseded.keys()]).toEqual([newPod.uid]);
  });

  it('does not take a version a switch deactivated for a newer install', () => {
    const a = podView('a', { modules: [V1], workload: APP });
    const b = podView('b', { modules: [V2], workload: OTHER_APP });
    const result = plan({
      pods: [a, b],
      inventory: inventory(
        biz(V1, 'DEACTIVATED', { changeTime: NOW, reason: 'SWITCHED' }),
        biz(V2, 'ACTIVATED', { changeTime: NOW - 1000 }),
      ),
    });
    expect(result.superseded.get(a.uid)?.reason).toBe('BizDeactivate');
    expect(result.superseded.has(b.uid)).toBe(false);
  });

  it('supersedes nothing when all pods on the base ask for the same version', () => {
    const result = plan({
      pods: [podView('a', { workload: APP }), podView('b', { workload: APP })],
      inventory: inventory(biz(V1, 'ACTIVATED')),
      facts: appAtV2,
    });
    expect(result.superseded.size).toBe(0);
  });

  it('ignores deleting and held pods', () => {
    const result = plan({
      pods: [
        podView('old', { workload: APP, modules: [V1], deleting: true }),
        podView('held', { admitted: false, workload: APP, modules: [V1] }),
        newPod,
      ],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      facts: appAtV2,
    });
    expect(result.superseded.size).toBe(0);
  });
});

describe('planBase: a current version deactivated', () => {
  const pod = podView('p', { workload: APP, modules: [V1] });
  const appAtV1 = facts({ current: { [APP.uid]: { biz1: '1.0.0' } } });

  it('reinstalls it when no other version serves: uninstalls the deactivated copy first', () => {
    const result = plan({
      pods: [pod],
      inventory: inventory(biz(V1, 'DEACTIVATED', { reason: 'SWITCHED' })),
      records: records({ ledger: [V1], mode: 'keeps-both' }),
      facts: appAtV1,
    });
    expect(uninstallKeys(result)).toEqual([K1]);
    expect(result.uninstalls[0]?.reason).toContain('reactivating');
    expect(installKeys(result)).toEqual([]);
    // Once it is gone, the next plan installs it again.
    const next = plan({ pods: [pod], records: result.records, facts: appAtV1 });
    expect(installKeys(next)).toEqual([K1]);
  });

  it('keeps an unclaimed version ACTIVATED until the current one is back up, then lets it go', () => {
    // An undo while the newer version was installing on a base that switches: it now serves alone.
    const reinstalling = plan({
      pods: [pod],
      inventory: inventory(biz(V2, 'ACTIVATED')),
      inFlight: new Map([[K1, inFlight('install')]]),
      records: records({ ledger: [V1, V2], mode: 'switches' }),
      facts: appAtV1,
    });
    expect(uninstallKeys(reinstalling)).toEqual([]);
    const back = plan({
      pods: [pod],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'DEACTIVATED', { reason: 'SWITCHED' })),
      records: reinstalling.records,
      facts: appAtV1,
    });
    expect(uninstallKeys(back)).toEqual([K2]);
  });

  it('decides nothing while a list is awaited after an install (the states of the other versions are stale)', () => {
    const result = plan({
      inventoryKnown: false,
      pods: [pod],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      records: records({ ledger: [V1, V2] }),
      facts: appAtV1,
    });
    expect(uninstallKeys(result)).toEqual([]);
    expect(result.records.mode).toBe('unknown');
  });
});

describe('planBase: base modes', () => {
  const oldPod = podView('old', { workload: APP, modules: [V1], currentRevision: false });
  const newPod = podView('new', { workload: APP, modules: [V2] });
  const appAtV2 = facts({ current: { [APP.uid]: { biz1: '2.0.0' } }, rollingOut: [APP] });

  it('keeps a mode already detected', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      records: records({ mode: 'switches' }),
      facts: appAtV2,
    });
    expect(result.records.mode).toBe('switches');
  });

  it.each([
    ['the inventory is unknown', { inventoryKnown: false }],
    ['the base is not trusted', { baseTrusted: false }],
  ])('detects nothing while %s', (_what, state) => {
    const result = plan({
      ...state,
      pods: [oldPod, newPod],
      inventory: inventory(biz(V1, 'ACTIVATED'), biz(V2, 'ACTIVATED')),
      facts: appAtV2,
    });
    expect(result.records.mode).toBe('unknown');
  });
});

// ---- uninstall-first -------------------------------------------------------------------------------------------

describe('planBase: uninstall-first on a base that installs the new version deactivated', () => {
  const oldPod = podView('old', { workload: APP, modules: [V1], currentRevision: false });
  const newPod = podView('new', { workload: APP, modules: [V2] });
  const appAtV2 = facts({ current: { [APP.uid]: { biz1: '2.0.0' } }, rollingOut: [APP] });
  const stuck = inventory(
    biz(V1, 'ACTIVATED', { changeTime: NOW - 60_000 }),
    biz(V2, 'DEACTIVATED', { changeTime: NOW - 1000, reason: 'STARTED' }),
  );

  it('detects the mode, warns, and uninstalls both versions without reinstalling', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: stuck,
      records: records({ ledger: [V1, V2] }),
      facts: appAtV2,
    });
    expect(result.records.mode).toBe('installs-deactivated');
    expect(result.uninstalls).toEqual([
      { key: K1, spec: V1, reason: 'uninstall-first: the old version goes first', pod: undefined },
      { key: K2, spec: V2, reason: 'uninstall-first: reinstalled once the old version is out', pod: newPod },
    ]);
    expect(result.installs).toEqual([]);
    const warnings = notesOf(result, 'UninstallFirst');
    expect(warnings.map((n) => [n.about === 'node' ? 'node' : n.about.uid, n.type])).toEqual([
      ['node', 'Warning'],
      [newPod.uid, 'Warning'],
    ]);
    expect(warnings[0]?.message).toContain('biz1:2.0.0');
    expect(result.superseded.size).toBe(0);
  });

  it('warns on the node only when it first detects the mode', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: stuck,
      records: records({ ledger: [V1, V2], mode: 'installs-deactivated' }),
      facts: appAtV2,
    });
    expect(notesOf(result, 'UninstallFirst').filter((n) => n.about === 'node')).toEqual([]);
    expect(uninstallKeys(result)).toEqual([K1, K2]);
  });

  it('drops a retention of the old version', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: stuck,
      records: records({ ledger: [V1, V2], retentions: [retention(V1, 'rollout', OTHER_APP)] }),
      facts: facts({
        current: { [APP.uid]: { biz1: '2.0.0' }, [OTHER_APP.uid]: { biz1: '1.0.0' } },
        rollingOut: [APP, OTHER_APP],
      }),
    });
    expect(result.records.retentions).toEqual([]);
  });

  it('detects it too when the old version is only retained (its pod already left in the rollout)', () => {
    const result = plan({
      pods: [newPod],
      inventory: stuck,
      records: records({ ledger: [V1, V2], retentions: [retention(V1, 'rollout', APP)] }),
      facts: appAtV2,
    });
    expect(result.records.mode).toBe('installs-deactivated');
    expect(uninstallKeys(result)).toContain(K1);
    expect(result.records.retentions).toEqual([]);
  });

  it('sends nothing again and reinstalls nothing while both uninstalls are in flight', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: stuck,
      inFlight: new Map([
        [K1, inFlight('uninstall')],
        [K2, inFlight('uninstall')],
      ]),
      records: records({ ledger: [V1, V2], mode: 'installs-deactivated' }),
      facts: appAtV2,
    });
    expect(result.uninstalls).toEqual([]);
    expect(result.installs).toEqual([]);
  });

  it('does not reinstall the current version while the base still reports it', () => {
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(biz(V2, 'DEACTIVATED')),
      inFlight: new Map([[K2, inFlight('uninstall')]]),
      records: records({ ledger: [V2], mode: 'installs-deactivated' }),
      facts: appAtV2,
    });
    expect(result.installs).toEqual([]);
  });

  it('reinstalls only the current version once both are out (the revision guard keeps the old one out)', () => {
    const result = plan({
      pods: [oldPod, newPod],
      records: records({ mode: 'installs-deactivated' }),
      facts: appAtV2,
    });
    expect(result.installs).toEqual([{ key: K2, spec: V2, pod: newPod }]);
  });
});

// ---- the revision guard ----------------------------------------------------------------------------------------

describe('planBase: the revision guard', () => {
  it('does not reinstall an older version of a workload beside the current version it claims here', () => {
    const oldPod = podView('old', { workload: APP, modules: [V1], currentRevision: false });
    const newPod = podView('new', { workload: APP, modules: [V2] });
    const result = plan({
      pods: [oldPod, newPod],
      inventory: inventory(biz(V2, 'ACTIVATED')),
      facts: facts({ current: { [APP.uid]: { biz1: '2.0.0' } }, rollingOut: [APP] }),
    });
    expect(result.installs).toEqual([]);
    expect(result.superseded.get(oldPod.uid)?.reason).toBe('Superseded');
  });

  it('installs the old version for its pod when no pod here claims the current version', () => {
    const oldPod = podView('old', { workload: APP, modules: [V1], currentRevision: false });
    const result = plan({
      pods: [oldPod],
      facts: facts({ current: { [APP.uid]: { biz1: '2.0.0' } }, rollingOut: [APP] }),
    });
    expect(installKeys(result)).toEqual([K1]);
  });

  it('applies per workload: pods of two workloads get their own versions', () => {
    const a = podView('a', { workload: APP, modules: [V1] });
    const b = podView('b', { workload: OTHER_APP, modules: [V2] });
    const result = plan({
      pods: [a, b],
      facts: facts({ current: { [APP.uid]: { biz1: '1.0.0' }, [OTHER_APP.uid]: { biz1: '2.0.0' } } }),
    });
    expect(installKeys(result)).toEqual([K1, K2]);
  });
});

// ---- recheck ---------------------------------------------------------------------------------------------------

describe('planBase: recheckAfterMs', () => {
  it('is undefined when nothing waits', () => {
    expect(
      plan({ pods: [podView('p')], inventory: inventory(biz(V1, 'ACTIVATED')) }).recheckAfterMs,
    ).toBeUndefined();
  });

  it('looks again just after an operation in flight would time out', () => {
    const result = plan({
      pods: [podView('p')],
      inFlight: new Map([[K1, inFlight('install', NOW - 1000)]]),
    });
    expect(result.recheckAfterMs).toBe(IN_FLIGHT_TIMEOUT_MS - 1000 + 1);
  });

  it('takes the soonest of all waits', () => {
    const held = podView('held', { admitted: false });
    const leaving = podView('leaving', { deletionDeadline: NOW + 2000 });
    const result = plan({
      pods: [held, leaving],
      gate: new Map([[held.uid, { ...HOLD, recheckAfterMs: 7000 }]]),
      inventory: inventory(biz(V1, 'ACTIVATED')),
      inFlight: new Map([[K1, inFlight('uninstall', NOW)]]),
      records: records({ ledger: [V1] }),
    });
    expect(result.recheckAfterMs).toBe(2000);
  });

  it('never asks to look again sooner than 100 ms', () => {
    const held = podView('held', { admitted: false });
    const result = plan({ pods: [held], gate: new Map([[held.uid, { ...HOLD, recheckAfterMs: 1 }]]) });
    expect(result.recheckAfterMs).toBe(100);
  });
});
