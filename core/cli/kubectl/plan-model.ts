import type {
  V1Deployment,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { isNodeReady } from '../../kube/conditions.ts';
import { parseLabelSelector, selectorMatches } from '../../kube/label-selector.ts';
import { templateFitsNode } from '../../kube/node-affinity.ts';
import { readRecords } from '../../module/node-records.ts';
import { untoleratedTaint } from '../../scheduling/taints.ts';
import { sameModules } from '../../module/workload-index.ts';
import {
  deploymentMaxUnavailable,
  effectiveBudget,
  intOrPercent,
  surgePods,
} from '../../rollout/availability.ts';
import { unavailableBudget } from '../../rollout/batch-planner.ts';
import { deadlineRisk, DEFAULT_PROGRESS_DEADLINE_SECONDS } from '../../rollout/deadline-risk.ts';
import { revisionOf } from '../../rollout/deployment-revisions.ts';
import { isTerminal, rolloutName, type ModuleRollout } from '../../rollout/module-rollout.ts';
import { ANNOTATIONS, resolveStrategy, unbatchedReason, type Strategy } from '../../rollout/strategy.ts';
import { isPeerDeployment, peerNodes } from '../../../plugins/peer-replica-syncer-plugin.ts';
import type { PlanConfig } from './plan-config.ts';

/**
 * What `kubectl koupleless plan` shows, computed from API objects and the config alone (pure): the rollout the
 * controller would run for a Deployment's next revision — its kind, batches (with the controller's own planner),
 * the holds before each batch, the budgets, and what will go wrong before it does.
 */
export interface PlanModel {
  readonly namespace: string;
  readonly deployment: string;
  /** What was planned: the `-f` manifest as the next revision, or the Deployment's current spec as one. */
  readonly subject: 'manifest' | 'deployment';
  readonly exists: boolean;
  readonly config: {
    readonly file: string | undefined;
    readonly plugins: readonly string[];
    readonly implicit: readonly string[];
  };
  readonly kind: PlanKind;
  /** First installs (unless batched by config), fast undos, `Recreate`, Deployments kmc does not manage. */
  readonly unbatched: boolean;
  /** Why the rollout is unbatched or absent, in a sentence. */
  readonly why: string | undefined;
  readonly stableRevision: number | undefined;
  readonly targetRevision: number;
  /** The ModuleRollout the controller will create (wait on it: `kubectl wait modulerollout/<name>`). */
  readonly rollout: string;
  readonly replicas: number;
  /** Where the replica count comes from: the spec, or the matching bases of a peer Deployment. */
  readonly replicasFrom: 'spec' | 'peer';
  readonly strategy: Strategy;
  /** Per strategy field: whence its value (precedence: annotation > config > default). */
  readonly sources: Readonly<Record<StrategyField, 'annotation' | 'config' | 'default'>>;
  /** Cumulative targets, as ModuleRollout `status.plan` will show them. */
  readonly plan: readonly number[];
  readonly batches: readonly PlannedBatch[];
  readonly budgets: Budgets;
  readonly bases: BasesLine;
  readonly progressDeadlineSeconds: number;
  readonly warnings: readonly PlanWarning[];
  readonly notes: readonly string[];
}

export type PlanKind = 'first-install' | 'update' | 'undo' | 'none';

export type StrategyField =
  'batchCount' | 'batchSizes' | 'beta' | 'needConfirm' | 'graySeconds' | 'maxUnavailable' | 'undo';

export interface PlannedBatch {
  readonly index: number;
  readonly size: number;
  /** Cumulative: pods whose module runs the new version once this batch is done. */
  readonly target: number;
  /** Holds before the batch starts, in the order the controller asks its plugins. */
  readonly holds: readonly PlannedHold[];
  /** The bases the rollout has reached once this batch is done, where that is determined. */
  readonly bases: readonly string[] | undefined;
}

export interface PlannedHold {
  readonly reason: string;
  /** True: the batch waits for it every time; false: only when the condition described holds then. */
  readonly certain: boolean;
  readonly detail: string;
}

export interface Budgets {
  readonly deployment: {
    readonly type: 'RollingUpdate' | 'Recreate';
    readonly maxSurge: { readonly value: number | string; readonly pods: number };
    readonly maxUnavailable: { readonly value: number | string; readonly pods: number };
  };
  /** The max-unavailable plugin's (or annotation's) budget; undefined when none is set. */
  readonly plugin: { readonly value: number | string; readonly pods: number } | undefined;
  /** What the engine holds for: the smaller of the two; undefined without a plugin budget. */
  readonly effective: number | undefined;
}

export interface BasesLine {
  /** Ready, schedulable VNodes the new template may run on (node affinity, nodeSelector, taints). */
  readonly matching: readonly string[];
  /** How many pods of the Deployment a base may run, by the template's required anti-affinity on hostname. */
  readonly spread: Spread;
  /** VNodes running a pod of the Deployment now. */
  readonly running: readonly string[];
  /** Bases whose activation mode kmc recorded as installs-deactivated (they update uninstall-first). */
  readonly uninstallFirst: readonly string[];
  /** Bases that run the module and have not shown their activation mode yet. */
  readonly modeUnknown: readonly string[];
  /** Batches are base sets (peer Deployments) or pod counts placed by the scheduler. */
  readonly sets: 'peer' | 'pod-counts';
}

/**
 * `one-per-base`: at most one pod of the Deployment on a base, whatever its revision (old and new pods avoid
 * each other); `one-per-base-per-revision`: two pods of one revision never share a base, a new one may land beside
 * an old one (matchLabelKeys [pod-template-hash], the corrected example); `any`: no such rule.
 */
export type Spread = 'one-per-base' | 'one-per-base-per-revision' | 'any';

export type WarningCode =
  | 'ProgressDeadlineRisk'
  | 'SurgeCannotFit'
  | 'AntiAffinityCannotRoll'
  | 'PodsCannotFit'
  | 'NoMatchingBase'
  | 'UninstallFirst'
  | 'BadAnnotation'
  | 'RolloutInProgress'
  | 'Paused'
  | 'NotManaged'
  | 'PeerWithoutSyncer';

export interface PlanWarning {
  readonly code: WarningCode;
  readonly message: string;
}

export interface PlanInput {
  readonly namespace: string;
  readonly name: string;
  /** The Deployment in the cluster; undefined when it does not exist yet. */
  readonly current: V1Deployment | undefined;
  /** The spec planned: the manifest as the API server would store it, or the current Deployment. */
  readonly next: V1Deployment;
  readonly subject: 'manifest' | 'deployment';
  /**
   * `next` went through the API server's defaulting (a server-side dry run), so its template can be compared
   * with the ReplicaSets' exactly; otherwise templates are compared by their modules.
   */
  readonly defaulted: boolean;
  /** The current Deployment's ReplicaSets. */
  readonly replicaSets: readonly V1ReplicaSet[];
  /** The current Deployment's ModuleRollouts. */
  readonly rollouts: readonly ModuleRollout[];
  /** The ModuleRollout CRD is not installed: kmc then rolls every Deployment natively. */
  readonly crdMissing?: boolean;
  /** The current Deployment's pods. */
  readonly pods: readonly V1Pod[];
  /** kmc's VNodes. */
  readonly nodes: readonly V1Node[];
  readonly config: PlanConfig;
  readonly now: number;
}

const HOSTNAME = 'kubernetes.io/hostname';
const HASH_LABEL = 'pod-template-hash';
const APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export function planModel(input: PlanInput): PlanModel {
  const { name, namespace, current, next, config } = input;
  const notes: string[] = [];
  const warnings: PlanWarning[] = [];
  const warn = (code: WarningCode, message: string) => warnings.push({ code, message });

  // ---- which rollout: as RolloutEngine#create decides its kind and stable revision --------------------------
  const sets = [...input.replicaSets].sort((a, b) => revisionOf(b) - revisionOf(a));
  const newest = sets[0];
  const template = next.spec?.template ?? {};
  const same = (rs: V1ReplicaSet) =>
    rs.spec?.template !== undefined && sameTemplate(template, rs.spec.template, input.defaulted);
  const unchanged = input.subject === 'manifest' && newest !== undefined && same(newest);
  const reused = input.subject === 'manifest' && !unchanged ? sets.find(same) : undefined;
  const others = sets.filter((rs) => rs !== reused);
  const lastCompleted = input.rollouts
    .filter((r) => r.status?.phase === 'Completed')
    .sort((a, b) => b.spec.revision - a.spec.revision)[0];
  const owned = (rs: V1ReplicaSet) =>
    input.pods.some((p) => p.metadata?.ownerReferences?.some((ref) => ref.uid === rs.metadata?.uid));
  const withPods = others.find((rs) => owned(rs) || (rs.status?.replicas ?? 0) > 0);
  const stableRevision =
    lastCompleted !== undefined && others.some((rs) => revisionOf(rs) === lastCompleted.spec.revision)
      ? lastCompleted.spec.revision
      : withPods
        ? revisionOf(withPods)
        : undefined;
  const latest = sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
  const kind: PlanKind = unchanged
    ? 'none'
    : reused
      ? 'undo'
      : others.length === 0 || stableRevision === undefined
        ? 'first-install'
        : 'update';
  const targetRevision = unchanged ? revisionOf(newest) : latest + 1;
  const rollout = rolloutName(name, targetRevision);

  // ---- strategy, with precedence ---------------------------------------------------------------------------
  const annotations = next.metadata?.annotations ?? {};
  const { strategy, problems } = resolveStrategy(config.strategy, annotations, undefined);
  for (const problem of problems) warn('BadAnnotation', problem);
  const sources = strategySources(config, annotations, problems);

  // ---- replicas: the spec, or the matching bases of a peer Deployment (peer-replica-syncer) -----------------
  const peer = isPeerDeployment(next);
  const peerSet = peer && config.peerReplicas ? peerBases(next, sets, input.nodes) : undefined;
  const replicas = peerSet ? peerSet.length : (next.spec?.replicas ?? 1);
  if (peer && !config.peerReplicas)
    warn(
      'PeerWithoutSyncer',
      `${name} is labelled a peer Deployment but the config does not list peer-replica-syncer: its replicas stay ` +
        `at spec.replicas (${String(next.spec?.replicas ?? 1)})`,
    );

  // ---- batched or not ---------------------------------------------------------------------------------------
  const managed = input.crdMissing
    ? {
        ok: false,
        why:
          'the ModuleRollout CRD is not installed in this cluster: kmc rolls Deployments natively, unbatched ' +
          '(kubectl apply -f examples/deploy/crds/)',
      }
    : managedBy(config, namespace, next);
  let why: string | undefined;
  if (kind === 'none')
    why =
      `the template is the one revision ${String(targetRevision)} runs: applying starts no rollout` +
      ((current?.spec?.replicas ?? 1) !== (next.spec?.replicas ?? 1) ? ' (a pure scale, never batched)' : '');
  else if (!managed.ok) why = managed.why;
  else {
    switch (unbatchedReason(kind, strategy, next.spec?.strategy?.type)) {
      case 'first-install':
        why = 'a first install goes straight through (rollout.batchFirstInstall: false)';
        break;
      case 'fast-undo':
        why =
          `the template is revision ${String(revisionOf(reused))}'s: the Deployment controller reuses that ReplicaSet, ` +
          'so kmc rolls it as an undo, at once (rollout.undo: fast; annotation rollout.koupleless.io/undo: batched to batch it)';
        break;
      case 'recreate':
        why = 'strategy Recreate replaces every pod at once: never batched';
        break;
      case undefined:
        break;
    }
  }
  const unbatched = why !== undefined;
  if (!managed.ok) warn('NotManaged', managed.why ?? '');

  // ---- the plan and the holds before each batch ------------------------------------------------------------
  const plan =
    kind === 'none'
      ? []
      : unbatched
        ? replicas > 0
          ? [replicas]
          : []
        : config.planBatches({
            namespace,
            deployment: next,
            name: rollout,
            stableRevision,
            targetRevision,
            replicas,
            currentBatch: 0,
            batches: [],
            strategy,
            plan: [],
            updatedAvailable: 0,
            unbatched,
            confirmedBatch: 0,
            kind: kind === 'undo' ? 'undo' : kind === 'update' ? 'update' : 'first-install',
            now: input.now,
          });
  const budgets = budgetsOf(next, strategy, replicas);
  const peerNames = peerSet ? [...peerSet].sort() : undefined;
  const batches: PlannedBatch[] = plan.map((target, i) => ({
    index: i + 1,
    size: target - (i === 0 ? 0 : (plan[i - 1] ?? 0)),
    target,
    holds: unbatched ? [] : holdsBefore(i + 1, name, rollout, strategy, budgets, replicas),
    bases: peerNames && target >= peerNames.length ? peerNames : undefined,
  }));
  if (plan.length === 0 && kind !== 'none') notes.push(`0 replicas: nothing to roll out`);
  if (!unbatched && config.otherHoldTaps.length > 0)
    notes.push(
      `${config.otherHoldTaps.join(', ')} also ${config.otherHoldTaps.length === 1 ? 'taps' : 'tap'} holdBatch: ` +
        'batches may wait for ' +
        (config.otherHoldTaps.length === 1 ? 'it' : 'them') +
        ' too (their reasons are their own)',
    );
  if (!unbatched && strategy.bizDeactivateBatching)
    notes.push(
      'biz-deactivate-batching: a batch also completes only once its bases run no other version ACTIVATED',
    );
  if (!unbatched && (next.spec?.minReadySeconds ?? 0) > 0)
    notes.push(
      `a batch completes once its pods have been Ready for minReadySeconds (${String(next.spec?.minReadySeconds)} s)`,
    );

  // ---- warnings ---------------------------------------------------------------------------------------------
  const deadline = next.spec?.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  // The engine's own check, as it emits the ProgressDeadlineRisk Event when the rollout starts.
  const risk = unbatched ? undefined : deadlineRisk(strategy, plan.length, deadline, rollout);
  if (risk) warn('ProgressDeadlineRisk', risk);

  const bases = basesLine(input, next, peerNames !== undefined);
  if (kind !== 'none') fitWarnings(name, kind, replicas, budgets, bases, warn);
  if (kind === 'update' || kind === 'undo') uninstallFirstWarning(name, bases, budgets, warn, notes);

  const paused = next.spec?.paused === true;
  if (paused && kind !== 'none')
    warn(
      'Paused',
      `${name} is paused: the Deployment controller creates no ReplicaSet for a new template until ` +
        `kubectl rollout resume deployment/${name}`,
    );
  const running = input.rollouts.find((r) => !isTerminal(r.status?.phase) && r.status?.phase !== undefined);
  if (running && kind !== 'none') {
    const status = running.status;
    const state = `${status?.phase ?? ''}, batch ${String(status?.currentBatch ?? 0)}/${String(status?.plan?.length ?? 0)}`;
    warn(
      'RolloutInProgress',
      input.subject === 'manifest'
        ? `${running.metadata?.name ?? ''} is still running (${state}): applying supersedes it (it ends Superseded ` +
            'and the new rollout plans from scratch)'
        : `${running.metadata?.name ?? ''} is running now (${state}): this plan is for the next update; ` +
            `kubectl koupleless status ${name} shows the running one`,
    );
  }

  return {
    namespace,
    deployment: name,
    subject: input.subject,
    exists: current !== undefined,
    config: { file: config.file, plugins: config.plugins, implicit: config.implicit },
    kind,
    unbatched,
    why,
    stableRevision: kind === 'first-install' ? undefined : stableRevision,
    targetRevision,
    rollout,
    replicas,
    replicasFrom: peerSet ? 'peer' : 'spec',
    strategy,
    sources,
    plan,
    batches,
    budgets,
    bases,
    progressDeadlineSeconds: deadline,
    warnings,
    notes,
  };
}

/**
 * The Deployment a `kubectl apply` of `manifest` leaves: annotations merged as apply merges them (those kubectl
 * applied before and the manifest dropped go, others stay), and replicas kept when the manifest leaves them out
 * and did not set them last time. Pure.
 */
export function appliedDeployment(current: V1Deployment | undefined, manifest: V1Deployment): V1Deployment {
  if (!current) return manifest;
  const previous = lastApplied(current);
  const currentAnnotations = current.metadata?.annotations ?? {};
  const kept = Object.fromEntries(
    Object.entries(currentAnnotations).filter(
      ([key]) => key !== APPLIED_ANNOTATION && !(key in (previous?.metadata?.annotations ?? {})),
    ),
  );
  const annotations = { ...kept, ...(manifest.metadata?.annotations ?? {}) };
  const replicas =
    manifest.spec?.replicas ??
    (previous?.spec?.replicas === undefined ? current.spec?.replicas : undefined) ??
    undefined;
  return {
    ...manifest,
    metadata: { ...manifest.metadata, annotations },
    ...(manifest.spec ? { spec: { ...manifest.spec, ...(replicas !== undefined ? { replicas } : {}) } } : {}),
  };
}

function lastApplied(deployment: V1Deployment): V1Deployment | undefined {
  const text = deployment.metadata?.annotations?.[APPLIED_ANNOTATION];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as V1Deployment;
  } catch {
    return undefined;
  }
}

/**
 * Two pod templates are the same revision: exactly (as the Deployment controller compares them, the ReplicaSet's
 * pod-template-hash label aside) when both were defaulted by the API server, else by their modules.
 */
export function sameTemplate(a: V1PodTemplateSpec, b: V1PodTemplateSpec, exact: boolean): boolean {
  if (!exact) return sameModules(a.spec ?? { containers: [] }, b.spec ?? { containers: [] });
  return isDeepStrictEqual(normalized(a), normalized(b));
}

function normalized(template: V1PodTemplateSpec): unknown {
  const copy = JSON.parse(JSON.stringify(template)) as {
    metadata?: { labels?: Record<string, string>; creationTimestamp?: unknown };
  };
  if (copy.metadata) {
    delete copy.metadata.creationTimestamp;
    if (copy.metadata.labels)
      copy.metadata.labels = Object.fromEntries(
        Object.entries(copy.metadata.labels).filter(([key]) => key !== HASH_LABEL),
      );
  }
  return copy;
}

const FIELDS: readonly (readonly [StrategyField, string, keyof PlanConfig['strategy']])[] = [
  ['batchCount', ANNOTATIONS.batchCount, 'batchCount'],
  ['batchSizes', ANNOTATIONS.batchSizes, 'batchSizes'],
  ['beta', ANNOTATIONS.beta, 'beta'],
  ['needConfirm', ANNOTATIONS.needConfirm, 'needConfirm'],
  ['graySeconds', ANNOTATIONS.graySeconds, 'graySeconds'],
  ['maxUnavailable', ANNOTATIONS.maxUnavailable, 'maxUnavailable'],
  ['undo', ANNOTATIONS.undo, 'undo'],
];

function strategySources(
  config: PlanConfig,
  annotations: Readonly<Record<string, string>>,
  problems: readonly string[],
): Record<StrategyField, 'annotation' | 'config' | 'default'> {
  const sources = {} as Record<StrategyField, 'annotation' | 'config' | 'default'>;
  for (const [field, annotation, key] of FIELDS) {
    const fromAnnotation =
      annotations[annotation] !== undefined &&
      !problems.some((p) => p.startsWith(`annotation ${annotation}:`));
    // `rollout.undo` always comes from the config (its schema default); a plugin field only when listed.
    const fromConfig = key === 'undo' || config.listed[key] !== undefined;
    sources[field] = fromAnnotation ? 'annotation' : fromConfig ? 'config' : 'default';
  }
  return sources;
}

/** Does kmc manage the Deployment as a rollout, by the config's watch scope? */
function managedBy(
  config: PlanConfig,
  namespace: string,
  deployment: V1Deployment,
): { ok: boolean; why: string | undefined } {
  const { namespaces, deploymentSelector } = config.watch;
  if (namespaces.length > 0 && !namespaces.includes(namespace))
    return {
      ok: false,
      why: `the config's watch.namespaces (${namespaces.join(', ')}) leave out ${namespace}: kmc serves no pod there`,
    };
  if (deploymentSelector && !parseLabelSelector(deploymentSelector).matches(deployment.metadata?.labels))
    return {
      ok: false,
      why:
        `the config's watch.deploymentSelector (${deploymentSelector}) does not select this Deployment: ` +
        'it rolls natively, unbatched',
    };
  return { ok: true, why: undefined };
}

/** The peer replica syncer's count: Ready bases matching the new template or an older one that still has pods. */
function peerBases(next: V1Deployment, sets: readonly V1ReplicaSet[], nodes: readonly V1Node[]): string[] {
  const templates: (V1PodSpec | undefined)[] = [next.spec?.template.spec];
  for (const rs of sets) {
    if ((rs.status?.replicas ?? 0) > 0 || (rs.spec?.replicas ?? 0) > 0)
      templates.push(rs.spec?.template?.spec);
  }
  return [...peerNodes(templates, nodes)];
}

/** Rounded as the Deployment controller rounds them: surge up, unavailability down (availability.ts). */
function budgetsOf(deployment: V1Deployment, strategy: Strategy, replicas: number): Budgets {
  const recreate = deployment.spec?.strategy?.type === 'Recreate';
  const rolling = deployment.spec?.strategy?.rollingUpdate;
  const surgeValue = intOrPercent(rolling?.maxSurge) ?? '25%';
  const unavailableValue = intOrPercent(rolling?.maxUnavailable) ?? '25%';
  const plugin =
    strategy.maxUnavailable !== undefined
      ? { value: strategy.maxUnavailable, pods: unavailableBudget(strategy.maxUnavailable, replicas) ?? 0 }
      : undefined;
  return {
    deployment: {
      type: recreate ? 'Recreate' : 'RollingUpdate',
      maxSurge: { value: recreate ? 0 : surgeValue, pods: recreate ? 0 : surgePods(surgeValue, replicas) },
      maxUnavailable: {
        value: recreate ? '100%' : unavailableValue,
        pods: deploymentMaxUnavailable(deployment, replicas),
      },
    },
    plugin,
    effective: effectiveBudget(strategy.maxUnavailable, deployment, replicas),
  };
}

/**
 * The holds the controller asks about before batch `index`, in its order (plugin stages): max-unavailable (only
 * while the budget is spent), gray time, then the human's confirmation.
 */
function holdsBefore(
  index: number,
  name: string,
  rollout: string,
  strategy: Strategy,
  budgets: Budgets,
  replicas: number,
): PlannedHold[] {
  const holds: PlannedHold[] = [];
  if (budgets.effective !== undefined)
    holds.push({
      reason: 'MaxUnavailable',
      certain: false,
      detail: `only while more than ${String(budgets.effective)} of ${String(replicas)} replicas are unavailable`,
    });
  if (index >= 2 && strategy.graySeconds > 0)
    holds.push({
      reason: 'GrayTime',
      certain: true,
      detail: `${String(strategy.graySeconds)} s after batch ${String(index - 1)} completes`,
    });
  const confirm =
    (strategy.needConfirm === 'each-batch' && index >= 2) || (strategy.needConfirm === 'beta' && index === 2);
  if (confirm)
    holds.push({
      reason: 'AwaitingConfirmation',
      certain: true,
      detail: `until kubectl koupleless confirm ${name} --batch ${String(index)} (or spec.confirmedBatch ${String(index)} on ${rollout})`,
    });
  return holds;
}

function basesLine(input: PlanInput, next: V1Deployment, peer: boolean): BasesLine {
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
    if (term.topologyKey !== HOSTNAME) continue;
    if (term.namespaces && term.namespaces.length > 0 && namespace && !term.namespaces.includes(namespace))
      continue;
    if (!term.labelSelector || !selectorMatches(term.labelSelector, labels)) continue;
    const perRevision =
      (term.matchLabelKeys ?? []).includes(HASH_LABEL) ||
      (oldLabels !== undefined && !selectorMatches(term.labelSelector, oldLabels));
    if (!perRevision) return 'one-per-base';
    spread = 'one-per-base-per-revision';
  }
  return spread;
}

/** Pods that cannot be placed on the matching bases, and rollouts that cannot progress. */
function fitWarnings(
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

function uninstallFirstWarning(
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
