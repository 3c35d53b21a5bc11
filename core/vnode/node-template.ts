import type { V1NodeCondition, V1Taint } from '@kubernetes/client-node';
import { moduleCapFor, type MaxModulesPerBase } from '../scheduling/module-cap.ts';
import type { BaseLiveness, BaseRecord } from './base-registry.ts';
import {
  NODE_ANNOTATIONS,
  NODE_LABELS,
  VIRTUAL_NODE_TAINT,
  hostnameLabel,
  labelValue,
} from './node-names.ts';

/**
 * The parts of a Node kmc owns, as one value: what the `nodeTemplate` hook lets plugins change (labels, taints,
 * capacity — the module cap of the scheduler plugin, for example).
 */
export interface NodeFields {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  taints: V1Taint[];
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
}

export interface NodeTemplateSettings {
  readonly env: string;
  readonly stack: string;
  readonly zone: string | undefined;
  readonly capacity: { readonly pods: number; readonly cpu: string; readonly memory: string };
  /** `scheduler.maxModulesPerBase`: the module cap by base name / cluster name; `capacity.pods` otherwise. */
  readonly maxModulesPerBase?: MaxModulesPerBase | undefined;
}

export function nodeFieldsFor(record: BaseRecord, settings: NodeTemplateSettings): NodeFields {
  const labels: Record<string, string> = {
    [NODE_LABELS.name]: labelValue(record.metadata.name),
    [NODE_LABELS.version]: labelValue(record.metadata.version),
    [NODE_LABELS.stack]: labelValue(settings.stack),
    [NODE_LABELS.clusterName]: labelValue(record.metadata.clusterName),
    [NODE_LABELS.hostName]: labelValue(record.hostname),
    [NODE_LABELS.hostname]: hostnameLabel(record.nodeName),
    [NODE_LABELS.type]: 'virtual-kubelet',
    [NODE_LABELS.env]: labelValue(settings.env),
    [NODE_LABELS.component]: 'vnode',
  };
  if (settings.zone) labels[NODE_LABELS.zone] = labelValue(settings.zone);
  const memory = record.memory
    ? `${Math.floor(record.memory.capacityBytes / 1024)}Ki`
    : settings.capacity.memory;
  const allocatableMemory = record.memory
    ? `${Math.floor(record.memory.allocatableBytes / 1024)}Ki`
    : settings.capacity.memory;
  // The module cap is the node's pods: every scheduler respects it, and kmc admits pods against it.
  const pods = String(moduleCapFor(record.metadata, settings.maxModulesPerBase, settings.capacity.pods).cap);
  return {
    labels,
    annotations: { [NODE_ANNOTATIONS.baseId]: record.baseId, [NODE_ANNOTATIONS.env]: settings.env },
    taints: [{ ...VIRTUAL_NODE_TAINT }],
    capacity: { pods, cpu: settings.capacity.cpu, memory },
    allocatable: {
      pods,
      cpu: settings.capacity.cpu,
      memory: allocatableMemory,
    },
  };
}

export interface ReadyState {
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

/** The Ready condition a base's liveness gives its node; undefined: leave the node's status as it is. */
export function readyStateFor(record: BaseRecord, liveness: BaseLiveness): ReadyState | undefined {
  switch (liveness.state) {
    case 'unconfirmed':
      return undefined;
    case 'alive':
      return { status: 'True', reason: 'BaseReady', message: `base ${record.baseId} is heartbeating` };
    case 'silent':
      return {
        status: 'False',
        reason: 'BaseSilent',
        message: `no heartbeat from base ${record.baseId} for ${Math.round(liveness.sinceMs / 1000)} s`,
      };
    case 'deactivated':
      return {
        status: 'False',
        reason: 'BaseDeactivated',
        message: `base ${record.baseId} reported it is not ACTIVATED`,
      };
    case 'replaced':
      return {
        status: 'False',
        reason: 'BaseReplaced',
        message: `base ${liveness.by} now reports the IP or hostname of base ${record.baseId}`,
      };
  }
}

/** Node conditions: Ready from liveness, the pressure conditions always False (a base has no kubelet eviction). */
export function nodeConditions(
  ready: ReadyState,
  heartbeat: Date,
  readySince: Date,
  created: Date,
): V1NodeCondition[] {
  const quiet = (type: string, reason: string): V1NodeCondition => ({
    type,
    status: 'False',
    reason,
    message: 'kmc virtual node',
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: created,
  });
  return [
    {
      type: 'Ready',
      status: ready.status,
      reason: ready.reason,
      message: ready.message,
      lastHeartbeatTime: heartbeat,
      lastTransitionTime: readySince,
    },
    quiet('MemoryPressure', 'BaseHasSufficientMemory'),
    quiet('DiskPressure', 'BaseHasNoDiskPressure'),
    quiet('PIDPressure', 'BaseHasSufficientPID'),
  ];
}
