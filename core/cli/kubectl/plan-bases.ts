/**
 * The bases part of `kubectl koupleless plan` (pure): which bases the new template may run on, how its pod
 * anti-affinity spreads it, how the bases update, and what will not fit.
 */
import type { V1Deployment, V1Node, V1PodSpec } from '@kubernetes/client-node';
import { isNodeReady } from '../../kube/conditions.ts';
import { selectorMatches } from '../../kube/label-selector.ts';
import { templateFitsNode } from '../../kube/node-affinity.ts';
import { readRecords } from '../../module/node-records.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../../rollout/deployment-revisions.ts';
import { untoleratedTaint } from '../../scheduling/taints.ts';
import { NODE_LABELS } from '../../vnode/node-names.ts';
import type { BasesLine, Budgets, PlanInput, PlanKind, Spread, WarningCode } from './plan-types.ts';

export function basesLine(input: PlanInput, next: V1Deployment, peer: boolean): BasesLine {
  const spec = next.spec?.template.spec;
  const matching = input.nodes
    .filter(
      (node) =>
        isNodeReady(node) &&
        node.spec?.unschedulable !== true &&
        templateFitsNode(spec, node) &&
        toleratesTaints(spec, node),
    )
    .map(nodeName)
    .sort();
  const running = [
    ...new Set(
      input.pods
        .filter((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName)
        .map((p) => p.spec?.nodeName ?? ''),
    ),
  ].sort();
  // Bases that keep the module for the Deployment (a rollout or disruption retention) run it too.
  const retaining = input.nodes
    .filter((node) =>
      readRecords(node).retentions.some(
        (r) => r.workload.name === input.name && r.workload.namespace === input.namespace,
      ),
    )
    .map(nodeName);
  const serving = new Set([...running, ...retaining]);
  const byName = new Map(input.nodes.map((n) => [nodeName(n), n]));
  const modes = [...serving].sort().map((n) => [n, readRecords(byName.get(n)).mode] as const);
  return {
    matching,
    spread: spreadOf(spec, next, input.current),
    running,
    uninstallFirst: modes.filter(([, mode]) => mode === 'installs-deactivated').map(([n]) => n),
    modeUnknown: modes.filter(([, mode]) => mode === 'unknown').map(([n]) => n),
    sets: peer ? 'peer' : 'pod-counts',
  };
}

const nodeName = (node: V1Node) => node.metadata?.name ?? '';

/** The scheduler's taint filter: every NoSchedule / NoExecute taint of the node is tolerated. */
export function toleratesTaints(spec: V1PodSpec | undefined, node: V1Node): boolean {
  return untoleratedTaint(node.spec?.taints, spec?.tolerations) === undefined;
}

/**
 * How the template's required pod anti-affinity on `kubernetes.io/hostname` spreads the Deployment's own pods:
 * a term that selects the new pods and also the current template's (without matchLabelKeys pod-template-hash)
 * keeps old and new apart — one pod of the Deployment per base; a term with matchLabelKeys pod-template-hash (or
 * one that selects only the new template's pods) keeps only the pods of one revision apart.
 */
export function spreadOf(
  spec: V1PodSpec | undefined,
  next: V1Deployment,
  current: V1Deployment | undefined,
): Spread {
  const namespace = next.metadata?.namespace;
  const labels = next.spec?.template.metadata?.labels ?? {};
  const oldLabels = current?.spec?.template.metadata?.labels;
  let spread: Spread = 'any';
  for (const term of spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (term.topologyKey !== NODE_LABELS.hostname) continue;
    if (term.namespaces && term.namespaces.length > 0 && namespace && !term.namespaces.includes(namespace))
      continue;
    if (!term.labelSelector || !selectorMatches(term.labelSelector, labels)) continue;
    const perRevision =
      (term.matchLabelKeys ?? []).includes(POD_TEMPLATE_HASH_LABEL) ||
      (oldLabels !== undefined && !selectorMatches(term.labelSelector, oldLabels));
    if (!perRevision) return 'one-per-base';
    spread = 'one-per-base-per-revision';
  }
  return spread;
}

/** Pods that cannot be placed on the matching bases, and rollouts that cannot progress. */
export function fitWarnings(
  name: string,
  kind: PlanKind,
  replicas: number,
  budgets: Budgets,
  bases: BasesLine,
  warn: (code: WarningCode, message: string) => void,
): void {
  const matching = bases.matching.length;
  if (replicas === 0) return;
  if (matching === 0) {
    warn(
      'NoMatchingBase',
      `no Ready, schedulable base matches the new template (nodeSelector, required node affinity, tolerations of ` +
        `the VNode taint): its ${String(replicas)} pod${replicas === 1 ? '' : 's'} will stay Pending`,
    );
    return;
  }
  const rule = 'required pod anti-affinity on kubernetes.io/hostname';
  const rolling = kind === 'update' || kind === 'undo';
  if (bases.spread === 'one-per-base' && rolling && budgets.deployment.type === 'RollingUpdate') {
    const surge = budgets.deployment.maxSurge.pods;
    const peak = replicas + surge;
    const running = new Set(bases.running);
    const free = bases.matching.filter((n) => !running.has(n)).length;
    const own = budgets.deployment.maxUnavailable.pods;
    if (surge > 0 && matching < peak) {
      const cannot = Math.min(surge, peak - matching);
      warn(
        'SurgeCannotFit',
        `${String(cannot)} of ${String(surge)} surge pod${surge === 1 ? '' : 's'} cannot be scheduled: the ${rule} ` +
          `selects the pods of every revision, so a base runs at most one pod of ${name}, and ${String(matching)} ` +
          `Ready base${matching === 1 ? '' : 's'} match the new template for ${String(replicas)} replicas + ` +
          `maxSurge ${String(surge)}` +
          (own > 0
            ? `; the rollout moves only as the Deployment deletes old pods (maxUnavailable ${String(own)})`
            : ''),
      );
    }
    if (free === 0 && own === 0) {
      warn(
        'AntiAffinityCannotRoll',
        `the rollout cannot progress: every matching base runs a pod of ${name}, the ${rule} keeps new pods off ` +
          'them, and maxUnavailable 0 lets the Deployment controller delete no old pod first. Add ' +
          'matchLabelKeys: [pod-template-hash] to the term (examples/manifests/module-deployment.yaml), give ' +
          'maxUnavailable ≥ 1, or add a base',
      );
    }
    return;
  }
  if (bases.spread !== 'any' && matching < replicas) {
    const missing = replicas - matching;
    warn(
      'PodsCannotFit',
      `${String(missing)} of ${String(replicas)} pods of the new revision cannot be scheduled: the ${rule} puts at ` +
        `most one on a base and ${String(matching)} Ready base${matching === 1 ? '' : 's'} match the new template`,
    );
  }
}

export function uninstallFirstWarning(
  name: string,
  bases: BasesLine,
  budgets: Budgets,
  warn: (code: WarningCode, message: string) => void,
  notes: string[],
): void {
  const count = bases.uninstallFirst.length;
  if (count > 0) {
    const bound =
      budgets.effective === undefined
        ? 'no max-unavailable budget bounds how many are down at once (list max-unavailable, or annotate rollout.koupleless.io/max-unavailable)'
        : budgets.effective === 0
          ? 'with an unavailability budget of 0 the install gate holds their new pods (MaxUnavailable) until the budget allows a replica down: the rollout cannot complete'
          : `the unavailability budget (${String(budgets.effective)}) bounds how many are down at once (the install gate holds the others' pods, MaxUnavailable)`;
    warn(
      'UninstallFirst',
      `${String(count)} base${count === 1 ? '' : 's'} will update uninstall-first (kmc recorded that ` +
        `${count === 1 ? 'it installs' : 'they install'} a new version deactivated): ${name} is down on each from ` +
        `the uninstall until the new version is ACTIVATED; ${bound}: ${bases.uninstallFirst.join(', ')}`,
    );
  }
  if (bases.modeUnknown.length > 0)
    notes.push(
      `${String(bases.modeUnknown.length)} base${bases.modeUnknown.length === 1 ? ' has' : 's have'} not shown ` +
        'their activation mode yet (it shows on their first update): any of them may update uninstall-first' +
        (budgets.effective !== undefined && budgets.effective > 0
          ? ', and the install gate counts them so until they show otherwise'
          : ''),
    );
}

/**
 * `whenUnsatisfiable: DoNotSchedule` spread constraints whose topology key the matching bases lack: the scheduler
 * refuses a base without the key, so with none having it every pod stays Pending, and with some the pods go only
 * to the others.
 */
export function spreadKeyWarnings(
  spec: V1PodSpec | undefined,
  nodes: readonly V1Node[],
  matching: readonly string[],
  warn: (code: WarningCode, message: string) => void,
  notes: string[],
): void {
  if (matching.length === 0) return;
  const byName = new Map(nodes.map((node) => [nodeName(node), node]));
  const keys = new Set(
    (spec?.topologySpreadConstraints ?? [])
      .filter((c) => c.whenUnsatisfiable === 'DoNotSchedule')
      .map((c) => c.topologyKey),
  );
  for (const key of keys) {
    const lacking = matching.filter((name) => byName.get(name)?.metadata?.labels?.[key] === undefined);
    if (lacking.length === matching.length)
      warn(
        'SpreadKeyMissing',
        `no matching base has the label ${key} that a DoNotSchedule topology spread constraint spreads over: ` +
          'every pod will stay Pending (label the bases, or make the constraint ScheduleAnyway)',
      );
    else if (lacking.length > 0)
      notes.push(
        `${String(lacking.length)} of ${String(matching.length)} matching bases lack the label ${key} of a ` +
          `DoNotSchedule topology spread constraint: pods go only to the others (${lacking.join(', ')} excluded)`,
      );
  }
}
