import { z } from 'zod';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import { planByCount, planBySizes } from '../core/rollout/batch-planner.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';

const size = z.union([
  z.number().int().min(1),
  z.string().regex(/^\d+(\.\d+)?%$/, 'a percentage such as "50%"'),
]);
const optionsSchema = z
  .object({
    batchCount: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Split the replicas into this many batches, larger first.'),
    sizes: z
      .array(size)
      .min(1)
      .optional()
      .describe(
        'Explicit cumulative targets, counts or percentages (e.g. [1, "50%", "100%"]); win over batchCount.',
      ),
  })
  .strict()
  .prefault({});

/**
 * N batches (the v1 `batchCount`): the replicas split into batchCount batches, larger first (10 / 3 → 4, 3, 3);
 * with beta the first batch is one pod and the rest split into batchCount − 1 batches (10 / 3 → 1, 5, 4). Or
 * explicit cumulative sizes. Annotation `rollout.koupleless.io/batch-count` / `batch-sizes` per Deployment.
 */
export class BatchesPlugin implements KmcPlugin {
  static readonly pluginName = 'batches';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'split a rollout into batches (batchCount, or explicit cumulative sizes)';
  readonly name = BatchesPlugin.pluginName;
  readonly strategyDefaults: Partial<ConfigStrategy>;

  constructor(options: z.output<typeof optionsSchema>) {
    this.strategyDefaults = {
      ...(options.batchCount !== undefined ? { batchCount: options.batchCount } : {}),
      ...(options.sizes !== undefined ? { batchSizes: options.sizes } : {}),
    };
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.planBatches.tap({ name: this.name, stage: -100 }, (plan, rollout) => {
      const { strategy, replicas } = rollout;
      if (strategy.batchSizes) return { targets: planBySizes(replicas, strategy.batchSizes) };
      if (strategy.batchCount > 1 || strategy.beta)
        return { targets: planByCount(replicas, strategy.batchCount, strategy.beta) };
      return plan;
    });
  }
}
