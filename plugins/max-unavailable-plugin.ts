import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Hold } from '../core/hold.ts';
import type { ActivationMode } from '../core/module/node-records.ts';
import type { InstallContext } from '../core/hooks.ts';
import { isPodReady } from '../core/kube/conditions.ts';
import { moduleKey, podModules } from '../core/module/module-pod.ts';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import { deploymentMaxUnavailable, effectiveBudget } from '../core/rollout/availability.ts';
import type { RolloutView } from '../core/rollout/rollout-types.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';

const optionsSchema = z
  .object({
    maxUnavailable: z
      .union([
        z.number().int().min(0),
        z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage such as "30%" (or give a whole number)'),
      ])
      .optional()
      .describe("At most this many replicas (or this share) unavailable; default: the Deployment's own."),
  })
  .strict()
  .prefault({});

/** Checked before the engine's own gate and before confirmations: availability is not a human's call. */
const STAGE = -50;
const RECHECK_MS = 2_000;

/**
 * maxUnavailable protection (the v1 `maxUnavailable`). Availability as ARCHITECTURE §3.2 counts it: desired
 * replicas − bases where the workload's module is ACTIVATED on a Ready base (retained instances count as
 * serving). The budget is the smaller of this plugin's (or the annotation's) and the Deployment's own.
 *
 * Bases that switch or keep both versions update install-first and lose nothing; a base that installs the new
 * version deactivated updates uninstall-first, which costs one replica while it lasts. So the install gate holds
 * such an update while the budget is spent, and no batch starts while more than the budget is unavailable
 * (a base went away, an install failed): "hold, and report" where v1 reported an error.
 * Annotation `rollout.koupleless.io/max-unavailable` (a count or a percentage) switches it on per Deployment.
 */
export class MaxUnavailablePlugin implements KmcPlugin {
  static readonly pluginName = 'max-unavailable';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'never more module replicas unavailable than a budget';
  readonly name = MaxUnavailablePlugin.pluginName;
  readonly strategyDefaults: Partial<ConfigStrategy>;

  constructor(options: z.output<typeof optionsSchema>, enabled = true) {
    // Listed without a value, the budget is the Deployment's own: the smaller of 100 % and it.
    this.strategyDefaults = enabled ? { maxUnavailable: options.maxUnavailable ?? '100%' } : {};
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.holdInstall.tapPromise({ name: this.name, stage: STAGE }, (pod, context) =>
      Promise.resolve(this.#holdInstall(orchestrator, pod, context)),
    );
    orchestrator.hooks.holdBatch.tapPromise({ name: this.name, stage: STAGE }, (batch, rollout) => {
      const state = availability(
        orchestrator,
        rollout,
        orchestrator.rollouts.podsOf(rollout.deployment),
        batch.pods,
      );
      if (!state || state.unavailable <= state.budget) return Promise.resolve(undefined);
      return Promise.resolve({
        reason: 'MaxUnavailable',
        message: `${describe(state, rollout)}: batch ${batch.index} waits until no more than ${state.budget} are unavailable`,
        recheckAfterMs: RECHECK_MS,
      });
    });
  }

  #holdInstall(orchestrator: Orchestrator, pod: V1Pod, context: InstallContext): Hold | undefined {
    const rollout = context.rollout;
    if (rollout?.podRevision !== 'target' || rollout.view.strategy.maxUnavailable === undefined)
      return undefined;
    // Only an uninstall-first update takes a replica away (or may: a base of unknown mode, see mayUninstallFirst).
    const mode = orchestrator.modules.activationModeOf(context.base.nodeName);
    if (mode !== 'installs-deactivated' && mode !== 'unknown') return undefined;
    const wanted = new Set(podModules(pod).modules.map((m) => moduleKey(m.bizName, m.bizVersion)));
    const names = new Set(podModules(pod).modules.map((m) => m.bizName));
    const losesOld = [...context.inventory.values()].some(
      (s) =>
        names.has(s.bizName) && s.state === 'ACTIVATED' && !wanted.has(moduleKey(s.bizName, s.bizVersion)),
    );
    if (!losesOld) return undefined;
    const state = availability(orchestrator, rollout.view, rollout.pods, rollout.targetPods);
    if (!state || state.unavailable + 1 <= state.budget) return undefined;
    if (!mayUninstallFirst(mode, state.budget)) return undefined;
    return {
      reason: 'MaxUnavailable',
      message:
        `this base updates uninstall-first, which takes a replica away; ${describe(state, rollout.view)}: ` +
        'it waits until a replica is back',
      recheckAfterMs: RECHECK_MS,
    };
  }
}

interface Availability {
  readonly unavailable: number;
  readonly budget: number;
  readonly own: number;
}

function availability(
  orchestrator: Orchestrator,
  rollout: RolloutView,
  pods: readonly V1Pod[],
  targetPods: readonly V1Pod[],
): Availability | undefined {
  const { deployment, replicas } = rollout;
  const budget = effectiveBudget(rollout.strategy.maxUnavailable, deployment, replicas);
  if (budget === undefined) return undefined;
  const serving = orchestrator.modules.servingBases(deployment.metadata?.uid ?? '', pods);
  // A base whose uninstall-first update was admitted is (about to be) without the module, whatever it reports.
  for (const pod of targetPods) {
    const node = pod.spec?.nodeName;
    if (!node || isPodReady(pod) || !orchestrator.modules.isAdmitted(pod)) continue;
    if (mayUninstallFirst(orchestrator.modules.activationModeOf(node), budget)) serving.delete(node);
  }
  return {
    unavailable: Math.max(0, replicas - serving.size),
    budget,
    own: deploymentMaxUnavailable(deployment, replicas),
  };
}

/**
 * The base updates, or may update, uninstall-first. Its mode shows only on its first update (ARCHITECTURE §2.2),
 * and the base plan then takes the old version out at once, unguarded: so while a budget allows a replica to go,
 * a base of unknown mode counts as uninstall-first until it shows otherwise — else a whole batch of such bases
 * was admitted together and lost its replicas together (issue 4: 4 of 10 unavailable under a budget of 1). With
 * a budget of 0 that would hold every such base forever (nothing could ever show its mode): it is admitted, as
 * before, and the budget bounds the bases known to update uninstall-first.
 */
function mayUninstallFirst(mode: ActivationMode, budget: number): boolean {
  return mode === 'installs-deactivated' || (mode === 'unknown' && budget > 0);
}

function describe(state: Availability, rollout: RolloutView): string {
  const deployment: V1Deployment = rollout.deployment;
  return (
    `${state.unavailable} of ${rollout.replicas} replicas of ${deployment.metadata?.name ?? ''} are unavailable ` +
    `(budget ${state.budget}: max-unavailable ${String(rollout.strategy.maxUnavailable)}, the Deployment's own ${state.own})`
  );
}
