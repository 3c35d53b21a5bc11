import { z } from 'zod';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';

const optionsSchema = z.object({}).strict().prefault({});

/**
 * Beta first (the v1 `useBeta`): the first batch is exactly one pod. With `batches` the rest is split into
 * batchCount − 1 batches; whatever plan another plugin made, a one-pod batch is put first. Annotation
 * `rollout.koupleless.io/beta: "true"` per Deployment.
 */
export class BetaFirstPlugin implements KmcPlugin {
  static readonly pluginName = 'beta-first';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'the first batch is a single pod';
  readonly name = BetaFirstPlugin.pluginName;
  readonly strategyDefaults: Partial<ConfigStrategy>;

  constructor(_options: z.output<typeof optionsSchema>, enabled = true) {
    this.strategyDefaults = enabled ? { beta: true } : {};
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.planBatches.tap({ name: this.name, stage: 100 }, (plan, rollout) => {
      if (!rollout.strategy.beta || plan.targets.length === 0 || plan.targets[0] === 1) return plan;
      return { targets: [1, ...plan.targets.filter((target) => target > 1)] };
    });
  }
}
