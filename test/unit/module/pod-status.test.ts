import type { V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Hold } from '../../../core/hold.ts';
import {
  INSTALL_HELD,
  NOT_A_MODULE_POD,
  type InvalidContainer,
  type ModuleSpec,
} from '../../../core/module/module-pod.ts';
import { foreignPodStatus, modulePodStatus, type PodStatusInput } from '../../../core/module/pod-status.ts';
import type { BizState } from '../../../core/tunnel/protocol/biz-state.ts';
import type { BizStatus } from '../../../core/tunnel/tunnel.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const EARLIER = new Date('2026-03-01T11:00:00Z');
const BASE_IP = '10.244.0.12';

function mod(bizName: string, bizVersion = '1.0.0'): ModuleSpec {
  return { bizName, bizVersion, bizUrl: `https://repo.example/${bizName}-${bizVersion}.jar` };
}

function report(
  spec: ModuleSpec,
  state: BizState | undefined,
  more: { reason?: string; message?: string; rawState?: string; changeTime?: number } = {},
): BizStatus {
  return {
    bizName: spec.bizName,
    bizVersion: spec.bizVersion,
    state,
    rawState: more.rawState ?? state ?? 'unknown',
    reason: more.reason,
    message: more.message,
    changeTime: more.changeTime ?? EARLIER.getTime(),
  };
}

function pod(conditions: V1PodCondition[] = [], containers = [mod('biz1')]): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'uid-p' },
    spec: {
      containers: containers.map((m) => ({
        name: m.bizName,
        image: m.bizUrl,
        env: [{ name: 'BIZ_VERSION', value: m.bizVersion }],
      })),
    },
    status: { conditions },
  };
}

const ADMITTED: V1PodCondition = {
  type: INSTALL_HELD,
  status: 'False',
  reason: 'Admitted',
  lastTransitionTime: EARLIER,
};

interface StatusOptions {
  readonly pod?: V1Pod;
  readonly modules?: readonly ModuleSpec[];
  readonly invalid?: readonly InvalidContainer[];
  readonly admitted?: boolean;
  readonly hold?: Hold | undefined;
  readonly reports?: readonly BizStatus[];
  readonly installing?: readonly string[];
  readonly superseded?: PodStatusInput['superseded'];
}

function statusOf(options: StatusOptions = {}): V1PodStatus {
  const modules = options.modules ?? [mod('biz1')];
  const reports = new Map<string, BizStatus | undefined>(modules.map((m) => [m.bizName, undefined]));
  for (const r of options.reports ?? []) reports.set(r.bizName, r);
  return modulePodStatus({
    pod: options.pod ?? pod(options.admitted === false ? [] : [ADMITTED], [...modules]),
    now: NOW,
    baseIP: BASE_IP,
    modules,
    invalid: options.invalid ?? [],
    admitted: options.admitted ?? true,
    hold: options.hold,
    reports,
    installing: new Set(options.installing ?? []),
    superseded: options.superseded,
  });
}

function conditionOf(status: V1PodStatus, type: string): V1PodCondition {
  const found = status.conditions?.find((c) => c.type === type);
  if (!found) throw new Error(`no ${type} condition`);
  return found;
}

function containerOf(status: V1PodStatus, name: string): V1ContainerStatus {
  const found = status.containerStatuses?.find((c) => c.name === name);
  if (!found) throw new Error(`no container status ${name}`);
  return found;
}

describe('modulePodStatus: container states', () => {
  it('shows an ACTIVATED module as a running, ready container started at its change time', () => {
    const spec = mod('biz1');
    const status = statusOf({ reports: [report(spec, 'ACTIVATED', { changeTime: 1_700_000_000_000 })] });
    expect(containerOf(status, 'biz1')).toEqual({
      name: 'biz1',
      image: spec.bizUrl,
      imageID: spec.bizUrl,
      containerID: 'koupleless://biz1:1.0.0',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: new Date(1_700_000_000_000) } },
    });
  });

  it.each(['DEACTIVATED', 'BROKEN', 'RESOLVED'] as const)(
    "shows a %s module as waiting with the base's reason and message",
    (state) => {
      const status = statusOf({
        reports: [report(mod('biz1'), state, { reason: 'BASE_REASON', message: 'what the base said' })],
      });
      expect(containerOf(status, 'biz1')).toMatchObject({
        ready: false,
        started: false,
        state: { waiting: { reason: 'BASE_REASON', message: 'what the base said' } },
      });
    },
  );

  it('falls back to the state and a generated message when the base gives no reason or message', () => {
    const status = statusOf({ reports: [report(mod('biz1'), 'RESOLVED')] });
    expect(containerOf(status, 'biz1').state).toEqual({
      waiting: { reason: 'RESOLVED', message: 'biz1:1.0.0 is RESOLVED on the base' },
    });
  });

  it('falls back to the raw state for a report whose state kmc cannot name (REPEAT_BIZ)', () => {
    const status = statusOf({ reports: [report(mod('biz1'), undefined, { rawState: 'unknown' })] });
    expect(containerOf(status, 'biz1').state).toEqual({
      waiting: { reason: 'unknown', message: 'biz1:1.0.0 is unknown on the base' },
    });
  });

  it('shows a STOPPED module as terminated with exit code 0 at its change time', () => {
    const status = statusOf({
      reports: [report(mod('biz1'), 'STOPPED', { reason: 'STOPPED', message: 'uninstalled' })],
    });
    expect(containerOf(status, 'biz1')).toMatchObject({
      ready: false,
      started: false,
      state: { terminated: { exitCode: 0, reason: 'STOPPED', message: 'uninstalled', finishedAt: EARLIER } },
    });
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'False', reason: 'ModuleStopped' });
  });

  it('shows a module of a held pod as waiting with the hold', () => {
    const hold = { reason: 'BatchFull', message: 'batch 1 is full' };
    const status = statusOf({ admitted: false, hold });
    expect(containerOf(status, 'biz1').state).toEqual({ waiting: hold });
  });

  it('keeps a held pod NotReady and Pending even when its module version runs on the base (owned by another pod)', () => {
    const hold = { reason: 'RolloutPaused', message: 'biz1 is paused' };
    const status = statusOf({ admitted: false, hold, reports: [report(mod('biz1'), 'ACTIVATED')] });
    expect(containerOf(status, 'biz1').state).toEqual({ waiting: hold });
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'False', reason: 'RolloutPaused' });
    expect(conditionOf(status, 'ContainersReady')).toMatchObject({ status: 'False' });
    expect(status.phase).toBe('Pending');
  });

  it('shows a module of a pod the gate has not answered as waiting with InstallHeld', () => {
    const status = statusOf({ admitted: false });
    expect(containerOf(status, 'biz1').state).toEqual({
      waiting: { reason: 'InstallHeld', message: 'waiting for the install gate' },
    });
  });

  it('shows a module whose install is in flight as Installing', () => {
    const status = statusOf({ installing: ['biz1'] });
    expect(containerOf(status, 'biz1').state).toEqual({
      waiting: { reason: 'Installing', message: 'installing biz1:1.0.0 on the base' },
    });
  });

  it('shows an admitted module not on the base and not installing as ContainerCreating', () => {
    const status = statusOf();
    expect(containerOf(status, 'biz1').state).toEqual({
      waiting: { reason: 'ContainerCreating', message: 'biz1:1.0.0 is not on the base yet' },
    });
  });

  it('shows an invalid container as waiting with its reason, and the pod never Ready', () => {
    const invalid: InvalidContainer = {
      container: 'sidecar',
      reason: 'InvalidModuleImage',
      message: 'image "nginx" is not a biz jar URL',
    };
    const p = pod([ADMITTED]);
    p.spec?.containers.push({ name: 'sidecar', image: 'nginx' });
    const status = statusOf({ pod: p, invalid: [invalid], reports: [report(mod('biz1'), 'ACTIVATED')] });
    expect(containerOf(status, 'sidecar')).toMatchObject({
      image: 'nginx',
      ready: false,
      state: { waiting: { reason: 'InvalidModuleImage', message: invalid.message } },
    });
    expect(conditionOf(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidModuleImage',
      message: `sidecar: ${invalid.message}`,
    });
    expect(conditionOf(status, 'ContainersReady').status).toBe('False');
  });
});

describe('modulePodStatus: phase', () => {
  it('is Pending while no module has run', () => {
    expect(statusOf().phase).toBe('Pending');
    expect(statusOf({ reports: [report(mod('biz1'), 'BROKEN')] }).phase).toBe('Pending');
    expect(statusOf({ admitted: false }).phase).toBe('Pending');
  });

  it('is Running once a module is ACTIVATED or DEACTIVATED', () => {
    expect(statusOf({ reports: [report(mod('biz1'), 'ACTIVATED')] }).phase).toBe('Running');
    expect(statusOf({ reports: [report(mod('biz1'), 'DEACTIVATED')] }).phase).toBe('Running');
  });

  it('is never a terminal phase, even when every module stopped', () => {
    const phase = statusOf({ reports: [report(mod('biz1'), 'STOPPED')] }).phase;
    expect(phase).not.toBe('Succeeded');
    expect(phase).not.toBe('Failed');
  });
});

describe('modulePodStatus: readiness', () => {
  const two = [mod('biz1'), mod('biz2')];

  it('is Ready when every module is ACTIVATED and nothing supersedes the pod', () => {
    const status = statusOf({
      modules: two,
      reports: [report(two[0] ?? mod('x'), 'ACTIVATED'), report(two[1] ?? mod('x'), 'ACTIVATED')],
    });
    expect(conditionOf(status, 'Ready')).toEqual({ type: 'Ready', status: 'True', lastTransitionTime: NOW });
    expect(conditionOf(status, 'ContainersReady').status).toBe('True');
  });

  it("is not Ready while one module of a multi-module pod is not ACTIVATED, with that module's reason", () => {
    const status = statusOf({
      modules: two,
      reports: [
        report(two[0] ?? mod('x'), 'ACTIVATED'),
        report(two[1] ?? mod('x'), 'BROKEN', { reason: 'INSTALL_FAILED', message: 'boom' }),
      ],
    });
    expect(conditionOf(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
      message: 'boom',
    });
    expect(conditionOf(status, 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'InstallFailed',
    });
    expect(containerOf(status, 'biz1').ready).toBe(true);
  });

  it('gives a DEACTIVATED module the Ready reason BizDeactivate, the base reason staying on the container', () => {
    const status = statusOf({
      reports: [report(mod('biz1'), 'DEACTIVATED', { reason: 'SWITCHED', message: 'biz1:2.0.0 took over' })],
    });
    expect(conditionOf(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'BizDeactivate',
      message: 'biz1:2.0.0 took over',
    });
    expect(containerOf(status, 'biz1').state?.waiting?.reason).toBe('SWITCHED');
  });

  it.each(['Superseded', 'BizDeactivate'] as const)(
    'is not Ready when superseded (%s), though its containers are',
    (reason) => {
      const status = statusOf({
        reports: [report(mod('biz1'), 'ACTIVATED')],
        superseded: { reason, message: 'biz1:2.0.0 is the current version on this base' },
      });
      expect(conditionOf(status, 'Ready')).toMatchObject({
        status: 'False',
        reason,
        message: 'biz1:2.0.0 is the current version on this base',
      });
      expect(conditionOf(status, 'ContainersReady').status).toBe('True');
    },
  );

  it("reports a superseded pod whose module is not ACTIVATED with the module's reason", () => {
    const status = statusOf({
      reports: [report(mod('biz1'), 'DEACTIVATED')],
      superseded: { reason: 'BizDeactivate', message: 'superseded' },
    });
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'False', reason: 'BizDeactivate' });
  });

  it('is not Ready for a pod without modules', () => {
    const status = statusOf({ modules: [] });
    expect(conditionOf(status, 'Ready').status).toBe('False');
  });
});

describe('modulePodStatus: conditions', () => {
  it('writes Initialized, ContainersReady, Ready and InstallHeld, and none of the conditions others own', () => {
    const p = pod([
      ADMITTED,
      { type: 'PodScheduled', status: 'True' },
      { type: 'DisruptionTarget', status: 'True' },
    ]);
    const status = statusOf({ pod: p });
    expect(status.conditions?.map((c) => c.type)).toEqual([
      'Initialized',
      'ContainersReady',
      'Ready',
      INSTALL_HELD,
    ]);
  });

  it('marks an admitted pod InstallHeld=False (Admitted) and Initialized', () => {
    const status = statusOf();
    expect(conditionOf(status, INSTALL_HELD)).toMatchObject({
      status: 'False',
      reason: 'Admitted',
      message: 'admitted by the install gate',
    });
    expect(conditionOf(status, 'Initialized')).toEqual({
      type: 'Initialized',
      status: 'True',
      lastTransitionTime: NOW,
    });
  });

  it('marks a held pod InstallHeld=True with the hold, and not Initialized', () => {
    const hold = { reason: 'AwaitingConfirmation', message: 'run kubectl koupleless confirm' };
    const status = statusOf({ admitted: false, hold });
    expect(conditionOf(status, INSTALL_HELD)).toMatchObject({ status: 'True', ...hold });
    expect(conditionOf(status, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'InstallHeld',
      message: hold.message,
    });
  });

  it('marks a pod the gate has not answered InstallHeld=True (Pending)', () => {
    expect(conditionOf(statusOf({ admitted: false }), INSTALL_HELD)).toMatchObject({
      status: 'True',
      reason: 'Pending',
      message: 'waiting for the install gate',
    });
  });

  it("keeps a condition's lastTransitionTime while its status is unchanged", () => {
    const p = pod([
      ADMITTED,
      { type: 'Ready', status: 'False', reason: 'ContainerCreating', lastTransitionTime: EARLIER },
    ]);
    const status = statusOf({ pod: p, installing: ['biz1'] });
    expect(conditionOf(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Installing',
      lastTransitionTime: EARLIER,
    });
    expect(conditionOf(status, INSTALL_HELD).lastTransitionTime).toEqual(EARLIER);
  });

  it('reads a previous lastTransitionTime written as a string', () => {
    const p = pod([
      ADMITTED,
      { type: 'Ready', status: 'False', lastTransitionTime: EARLIER.toISOString() as unknown as Date },
    ]);
    expect(conditionOf(statusOf({ pod: p }), 'Ready').lastTransitionTime).toEqual(EARLIER);
  });

  it('moves lastTransitionTime to now when the status changes', () => {
    const p = pod([ADMITTED, { type: 'Ready', status: 'False', lastTransitionTime: EARLIER }]);
    const status = statusOf({ pod: p, reports: [report(mod('biz1'), 'ACTIVATED')] });
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: NOW });
  });

  it('moves InstallHeld to False at admission, now', () => {
    const p = pod([{ type: INSTALL_HELD, status: 'True', reason: 'BatchFull', lastTransitionTime: EARLIER }]);
    const status = statusOf({ pod: p });
    expect(conditionOf(status, INSTALL_HELD)).toMatchObject({ status: 'False', lastTransitionTime: NOW });
  });
});

describe('modulePodStatus: addresses and start time', () => {
  it('gives the pod the base IP as pod IP and host IP', () => {
    const status = statusOf();
    expect(status.podIP).toBe(BASE_IP);
    expect(status.hostIP).toBe(BASE_IP);
    expect(status.podIPs).toEqual([{ ip: BASE_IP }]);
    expect(status.hostIPs).toEqual([{ ip: BASE_IP }]);
  });

  it('starts an admitted pod at its admission (the InstallHeld=False transition)', () => {
    expect(statusOf().startTime).toEqual(EARLIER);
  });

  it('starts a pod admitted in this pass now', () => {
    expect(statusOf({ pod: pod([]) }).startTime).toEqual(NOW);
  });

  it('gives a pod that is not admitted no start time', () => {
    expect(statusOf({ admitted: false })).not.toHaveProperty('startTime');
  });
});

describe('foreignPodStatus', () => {
  it('leaves a pod that is not a module pod Pending with a condition that says why', () => {
    const status = foreignPodStatus({ metadata: { name: 'ds-pod' }, status: {} }, NOW);
    expect(status.phase).toBe('Pending');
    expect(status.conditions).toHaveLength(1);
    expect(status.conditions?.[0]).toMatchObject({
      type: NOT_A_MODULE_POD,
      status: 'True',
      reason: 'NotAModulePod',
      lastTransitionTime: NOW,
    });
    expect(status.conditions?.[0]?.message).toContain('type NotIn [virtual-kubelet]');
  });

  it('keeps the time the condition was first written', () => {
    const status = foreignPodStatus(
      { status: { conditions: [{ type: NOT_A_MODULE_POD, status: 'True', lastTransitionTime: EARLIER }] } },
      NOW,
    );
    expect(status.conditions?.[0]?.lastTransitionTime).toEqual(EARLIER);
  });
});
