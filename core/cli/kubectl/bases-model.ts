import type { V1Lease, V1Node, V1Pod } from '@kubernetes/client-node';
import { isNodeReady } from '../../kube/conditions.ts';
import { INSTALL_HELD, NOT_A_MODULE_POD, isModulePod, podModules } from '../../module/module-pod.ts';
import { readRecords, type ActivationMode } from '../../module/node-records.ts';
import { NODE_ANNOTATIONS, NODE_LABELS } from '../../vnode/node-names.ts';

/** What `kubectl koupleless bases` and `modules` show of one base, from its Node and the pods bound to it. Pure. */
export interface BaseView {
  readonly node: string;
  readonly baseId: string;
  readonly name: string;
  readonly version: string;
  readonly cluster: string;
  readonly env: string;
  readonly ip: string;
  readonly ready: boolean;
  /** Why not Ready (the condition's reason), and since when (ms). */
  readonly readyReason: string | undefined;
  readonly readySince: number | undefined;
  readonly unschedulable: boolean;
  readonly mode: ActivationMode;
  readonly modules: readonly ModuleView[];
  /** Pods on the base that are not module pods (never run), `namespace/name`. */
  readonly foreign: readonly string[];
}

export interface ModuleView {
  readonly bizName: string;
  readonly bizVersion: string;
  /** ACTIVATED, a waiting reason (Installing, BizDeactivate …), `Held: <reason>`, or `retained`. */
  readonly state: string;
  /** `namespace/name` of the pod, or undefined for a retained instance. */
  readonly pod: string | undefined;
  /** The workload the instance serves: the pod's owner, or the retention's workload. */
  readonly owner: string | undefined;
  readonly detail: string | undefined;
}

export function baseViews(nodes: readonly V1Node[], pods: readonly V1Pod[], now: number): BaseView[] {
  const byNode = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (node) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  return nodes
    .map((node) => baseView(node, byNode.get(node.metadata?.name ?? '') ?? [], now))
    .sort((a, b) => a.node.localeCompare(b.node));
}

function baseView(node: V1Node, pods: readonly V1Pod[], now: number): BaseView {
  const labels = node.metadata?.labels ?? {};
  const annotations = node.metadata?.annotations ?? {};
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const records = readRecords(node);
  const modules: ModuleView[] = [];
  const foreign: string[] = [];
  for (const pod of [...pods].sort((a, b) =>
    (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )) {
    const ref = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    const notModule = pod.status?.conditions?.some((c) => c.type === NOT_A_MODULE_POD && c.status === 'True');
    if (!isModulePod(pod) || notModule) {
      foreign.push(ref);
      continue;
    }
    const held = pod.status?.conditions?.find((c) => c.type === INSTALL_HELD && c.status === 'True');
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    for (const module of podModules(pod).modules) {
      const container = pod.status?.containerStatuses?.find((c) => c.name === module.bizName);
      const state = held
        ? `Held: ${held.reason ?? ''}`
        : container?.state?.running
          ? 'ACTIVATED'
          : (container?.state?.waiting?.reason ?? container?.state?.terminated?.reason ?? 'Pending');
      modules.push({
        bizName: module.bizName,
        bizVersion: module.bizVersion,
        state: pod.metadata?.deletionTimestamp ? `${state} (terminating)` : state,
        pod: ref,
        owner: owner ? `${owner.kind} ${pod.metadata?.namespace ?? ''}/${owner.name}` : undefined,
        detail: held?.message ?? container?.state?.waiting?.message ?? undefined,
      });
    }
  }
  for (const retention of records.retentions) {
    modules.push({
      bizName: retention.bizName,
      bizVersion: retention.bizVersion,
      state: 'retained',
      pod: undefined,
      owner: `${retention.workload.kind} ${retention.workload.namespace}/${retention.workload.name}`,
      detail: `${retention.reason} retention for ${formatAge(now - retention.since)}: kept until the workload no longer needs it here`,
    });
  }
  return {
    node: node.metadata?.name ?? '',
    baseId: annotations[NODE_ANNOTATIONS.baseId] ?? '',
    name: labels[NODE_LABELS.name] ?? '',
    version: labels[NODE_LABELS.version] ?? '',
    cluster: labels[NODE_LABELS.clusterName] ?? '',
    env: labels[NODE_LABELS.env] ?? '',
    ip: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    ready: isNodeReady(node),
    readyReason: isNodeReady(node) ? undefined : (ready?.reason ?? 'Unknown'),
    readySince: ready?.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : undefined,
    unschedulable: node.spec?.unschedulable === true,
    mode: records.mode,
    modules,
    foreign,
  };
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${String(Math.floor(s / 60))}m${String(s % 60).padStart(2, '0')}s` : `${String(s)}s`;
}

/** A kmc replica's leader Lease (`kmc-<env>` unless renamed in its config), as doctor reads it. */
export interface ControllerLease {
  readonly namespace: string;
  readonly name: string;
  readonly holder: string | undefined;
  /** Renewed within its own duration. */
  readonly fresh: boolean;
}

export function controllerLeases(leases: readonly V1Lease[], now: number): ControllerLease[] {
  return leases
    .filter((l) => (l.metadata?.name ?? '').startsWith('kmc-') && l.metadata?.namespace !== 'kube-node-lease')
    .map((l) => {
      const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : 0;
      const seconds = l.spec?.leaseDurationSeconds ?? 15;
      return {
        namespace: l.metadata?.namespace ?? '',
        name: l.metadata?.name ?? '',
        holder: l.spec?.holderIdentity ?? undefined,
        fresh: Boolean(l.spec?.holderIdentity) && now - renewed <= seconds * 1000 * 2,
      };
    });
}

export interface Finding {
  readonly severity: 'problem' | 'warning';
  readonly message: string;
}

/** NotReady for longer than this is worth a look: the base is probably gone for good. */
export const STALE_AFTER_MS = 5 * 60_000;

/**
 * What `doctor` finds: env mismatches between bases and controllers, stale nodes, pods that land on bases but are
 * not module pods (cluster DaemonSets). Pure.
 */
export function diagnose(
  bases: readonly BaseView[],
  controllers: readonly ControllerLease[],
  pods: readonly V1Pod[],
  now: number,
): Finding[] {
  const findings: Finding[] = [];
  const served = new Set(controllers.filter((c) => c.fresh).map((c) => c.name.slice('kmc-'.length)));
  const envs = new Set(bases.map((b) => b.env).filter(Boolean));
  if (controllers.length > 0 && !controllers.some((c) => c.fresh))
    findings.push({
      severity: 'problem',
      message: `no kmc is running: its leader Lease${controllers.length > 1 ? 's' : ''} ${controllers.map((c) => `${c.namespace}/${c.name}`).join(', ')} ${controllers.length > 1 ? 'are' : 'is'} not renewed`,
    });
  if (controllers.length === 0)
    findings.push({
      severity: 'problem',
      message:
        'no kmc leader Lease (kmc-<env>) found in any namespace: is kmc running, with leader election on?',
    });
  for (const env of envs) {
    if (served.size > 0 && !served.has(env))
      findings.push({
        severity: 'problem',
        message:
          `bases of env "${env}" (topics koupleless_${env}/) have no running kmc: the running ones serve ` +
          `${[...served].map((e) => `"${e}"`).join(', ')}; set env: ${env} in the kmc config, or give the bases that env`,
      });
  }
  for (const env of served) {
    if (!envs.has(env) && bases.length > 0)
      findings.push({
        severity: 'warning',
        message: `kmc serves env "${env}" but no base of that env is known`,
      });
  }
  for (const base of bases) {
    if (!base.ready && base.readySince !== undefined && now - base.readySince > STALE_AFTER_MS)
      findings.push({
        severity: 'warning',
        message:
          `node ${base.node} (base ${base.name} ${base.version}) is NotReady (${base.readyReason ?? ''}) for ` +
          `${formatAge(now - base.readySince)}: its base is gone? kmc deletes the node after bases.deleteAfterSeconds`,
      });
  }
  const owners = new Map<string, string[]>();
  for (const pod of pods) {
    if (!pod.status?.conditions?.some((c) => c.type === NOT_A_MODULE_POD && c.status === 'True')) continue;
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
    const key = owner
      ? `${owner.kind} ${pod.metadata?.namespace ?? ''}/${owner.name}`
      : `pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    owners.set(key, [...(owners.get(key) ?? []), pod.spec?.nodeName ?? '']);
  }
  for (const [owner, nodes] of owners) {
    findings.push({
      severity: 'warning',
      message:
        `${owner} puts pods on ${String(nodes.length)} base node${nodes.length > 1 ? 's' : ''}, where they never run: ` +
        'give it the node affinity "type NotIn [virtual-kubelet]"',
    });
  }
  return findings;
}
