import type { V1Deployment, V1Node, V1PodSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { parseLabelSelector } from '../../kube/label-selector.ts';
import {
  deploymentMaxUnavailable,
  effectiveBudget,
  intOrPercent,
  surgePods,
} from '../../rollout/availability.ts';
import { unavailableBudget } from '../../rollout/batch-planner.ts';
import { deadlineRisk, DEFAULT_PROGRESS_DEADLINE_SECONDS } from '../../rollout/deadline-risk.ts';
import { revisionOf } from '../../rollout/deployment-revisions.ts';
import { isTerminal, rolloutName } from '../../rollout/module-rollout.ts';
import { ANNOTATIONS, resolveStrategy, unbatchedReason, type Strategy } from '../../rollout/strategy.ts';
import { isPeerDeployment, peerNodes } from '../../../plugins/peer-replica-syncer-plugin.ts';
import { sameTemplate } from './applied-deployment.ts';
import { basesLine, fitWarnings, spreadKeyWarnings, uninstallFirstWarning } from './plan-bases.ts';
import type { PlanConfig } from './plan-config.ts';
import type {
  Budgets,
  PlanInput,
  PlanKind,
  PlanModel,
  PlannedBatch,
  PlannedHold,
  PlanWarning,
  StrategyField,
  WarningCode,
} from './plan-types.ts';

/**
 * What `kubectl koupleless plan` shows, computed from API objects and the config alone (pure): the rollout the
 * controller would run for a Deployment's next revision — its kind, batches (with the controller's own planner),
 * the holds before each batch, the budgets, and what will go wrong before it does.
 */
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
  if (kind !== 'none') {
    fitWarnings(name, kind, replicas, budgets, bases, warn);
    spreadKeyWarnings(next.spec?.template.spec, input.nodes, bases.matching, warn, notes);
  }
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
