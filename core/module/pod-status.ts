import type { V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import type { Hold } from '../hold.ts';
import type { BizStatus } from '../tunnel/tunnel.ts';
import { INSTALL_HELD, NOT_A_MODULE_POD, type InvalidContainer, type ModuleSpec } from './module-pod.ts';

/** Another version of one of the pod's modules is the current one on this base and runs there. */
export interface Supersession {
  readonly reason: 'Superseded' | 'BizDeactivate';
  readonly message: string;
}

export interface PodStatusInput {
  readonly pod: V1Pod;
  readonly now: Date;
  readonly baseIP: string;
  readonly modules: readonly ModuleSpec[];
  readonly invalid: readonly InvalidContainer[];
  readonly admitted: boolean;
  readonly hold: Hold | undefined;
  /** What the base reports for each module (by container name); undefined: not on the base. */
  readonly reports: ReadonlyMap<string, BizStatus | undefined>;
  /** Containers whose install was sent and not answered yet. */
  readonly installing: ReadonlySet<string>;
  readonly superseded: Supersession | undefined;
}

/**
 * The status kmc, as the kubelet, reports for a module pod (ARCHITECTURE §2.2): one container status per module
 * with the base's reason and message, Ready only when every module is ACTIVATED (and no other version is the
 * current one here), pod IP = host IP = the base's IP. Only the fields kmc owns: conditions it does not write
 * (PodScheduled, DisruptionTarget) are left to their owners. Never a terminal phase: Kubernetes allows no way back.
 */
export function modulePodStatus(input: PodStatusInput): V1PodStatus {
  const { pod, now, modules, invalid, admitted, hold, reports, installing, superseded } = input;
  const containerStatuses: V1ContainerStatus[] = [];
  let allActivated = modules.length > 0 && invalid.length === 0;
  let everRan = false;
  let notReadyReason = '';
  let notReadyMessage = '';
  const setReason = (reason: string, message: string) => {
    if (!notReadyReason) {
      notReadyReason = reason;
      notReadyMessage = message;
    }
  };
  for (const bad of invalid) {
    const image = pod.spec?.containers.find((c) => c.name === bad.container)?.image ?? '';
    containerStatuses.push(waiting(bad.container, image, bad.reason, bad.message));
    setReason(bad.reason, `${bad.container}: ${bad.message}`);
  }
  for (const module of modules) {
    // A held pod claims nothing (ARCHITECTURE §2.2): an instance of its version on the base belongs to someone else
    // (or is on its way out), so it must not make this pod Ready and count as available to its ReplicaSet.
    const report = admitted ? reports.get(module.bizName) : undefined;
    const state = report?.state;
    if (state === 'ACTIVATED' && report) {
      everRan = true;
      containerStatuses.push({
        name: module.bizName,
        image: module.bizUrl,
        imageID: module.bizUrl,
        containerID: `koupleless://${module.bizName}:${module.bizVersion}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: new Date(report.changeTime) } },
      });
      continue;
    }
    allActivated = false;
    if (report && state === 'STOPPED') {
      containerStatuses.push({
        name: module.bizName,
        image: module.bizUrl,
        imageID: module.bizUrl,
        ready: false,
        started: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode: 0,
            reason: report.reason ?? 'STOPPED',
            ...(report.message ? { message: report.message } : {}),
            finishedAt: new Date(report.changeTime),
          },
        },
      });
      setReason('ModuleStopped', `${module.bizName}:${module.bizVersion} was uninstalled on the base`);
      continue;
    }
    if (report && state === 'DEACTIVATED') everRan = true;
    const [reason, message] = waitingReason(module, report, admitted, hold, installing.has(module.bizName));
    containerStatuses.push(waiting(module.bizName, module.bizUrl, reason, message));
    setReason(
      state === 'DEACTIVATED' ? 'BizDeactivate' : state === 'BROKEN' ? 'InstallFailed' : reason,
      message,
    );
  }
  if (allActivated && superseded) setReason(superseded.reason, superseded.message);
  const ready = allActivated && !superseded;

  const conditions: V1PodCondition[] = [
    condition(
      pod,
      now,
      'Initialized',
      admitted ? 'True' : 'False',
      admitted ? '' : 'InstallHeld',
      hold?.message ?? '',
    ),
    condition(
      pod,
      now,
      'ContainersReady',
      allActivated ? 'True' : 'False',
      allActivated ? '' : notReadyReason,
      allActivated ? '' : notReadyMessage,
    ),
    condition(
      pod,
      now,
      'Ready',
      ready ? 'True' : 'False',
      ready ? '' : notReadyReason,
      ready ? '' : notReadyMessage,
    ),
    admitted
      ? condition(pod, now, INSTALL_HELD, 'False', 'Admitted', 'admitted by the install gate')
      : condition(
          pod,
          now,
          INSTALL_HELD,
          'True',
          hold?.reason ?? 'Pending',
          hold?.message ?? 'waiting for the install gate',
        ),
  ];
  const admittedAt = pod.status?.conditions?.find(
    (c) => c.type === INSTALL_HELD && c.status === 'False',
  )?.lastTransitionTime;
  return {
    phase: everRan ? 'Running' : 'Pending',
    conditions,
    containerStatuses,
    hostIP: input.baseIP,
    hostIPs: [{ ip: input.baseIP }],
    podIP: input.baseIP,
    podIPs: [{ ip: input.baseIP }],
    ...(admitted ? { startTime: admittedAt ? new Date(admittedAt) : now } : {}),
  };
}

/** A pod on a VNode that is not a module pod (a cluster DaemonSet tolerating every taint): never run. */
export function foreignPodStatus(pod: V1Pod, now: Date): V1PodStatus {
  const message =
    'this node is a Koupleless base: only module pods (label module-controller.koupleless.io/component=module) ' +
    'run here; give DaemonSets the node affinity "type NotIn [virtual-kubelet]"';
  return {
    phase: 'Pending',
    conditions: [condition(pod, now, NOT_A_MODULE_POD, 'True', 'NotAModulePod', message)],
  };
}

function waitingReason(
  module: ModuleSpec,
  report: BizStatus | undefined,
  admitted: boolean,
  hold: Hold | undefined,
  installing: boolean,
): [string, string] {
  const name = `${module.bizName}:${module.bizVersion}`;
  if (report) {
    const state = report.state ?? report.rawState;
    return [report.reason ?? state, report.message ?? `${name} is ${state} on the base`];
  }
  if (!admitted) return [hold?.reason ?? 'InstallHeld', hold?.message ?? 'waiting for the install gate'];
  if (installing) return ['Installing', `installing ${name} on the base`];
  return ['ContainerCreating', `${name} is not on the base yet`];
}

function waiting(name: string, image: string, reason: string, message: string): V1ContainerStatus {
  return {
    name,
    image,
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: { reason, message } },
  };
}

/** A condition that keeps its lastTransitionTime while its status does not change. */
function condition(
  pod: V1Pod,
  now: Date,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
): V1PodCondition {
  const previous = pod.status?.conditions?.find((c) => c.type === type);
  const since =
    previous?.status === status && previous.lastTransitionTime ? new Date(previous.lastTransitionTime) : now;
  return {
    type,
    status,
    lastTransitionTime: since,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}
