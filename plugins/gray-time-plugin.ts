import { z } from 'zod';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';

const optionsSchema = z
  .object({
    seconds: z.number().min(0).default(0).describe('Time between a batch completing and the next starting.'),
  })
  .strict()
  .prefault({});

/**
 * Gray time (the v1 `grayTime`): batch n starts no sooner than `seconds` after batch n − 1 completed. Computed
 * from the completion time recorded in the ModuleRollout — never a timer in memory — so a restart keeps it.
 * Annotation `rollout.koupleless.io/gray-seconds`.
 */
export class GrayTimePlugin implements KmcPlugin {
  static readonly pluginName = 'gray-time';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'wait a number of seconds between batches';
  readonly name = GrayTimePlugin.pluginName;
  readonly strategyDefaults: Partial<ConfigStrategy>;

  constructor(options: z.output<typeof optionsSchema>) {
    this.strategyDefaults = { graySeconds: options.seconds };
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.holdBatch.tapPromise({ name: this.name, stage: 0 }, (batch, rollout) => {
      const seconds = rollout.strategy.graySeconds;
      const previous = rollout.batches.find((b) => b.index === batch.index - 1);
      if (seconds <= 0 || batch.index < 2 || previous?.completedAt === undefined)
        return Promise.resolve(undefined);
      const left = previous.completedAt + seconds * 1000 - rollout.now;
      if (left <= 0) return Promise.resolve(undefined);
      return Promise.resolve({
        reason: 'GrayTime',
        message: `batch ${batch.index} starts at ${new Date(previous.completedAt + seconds * 1000).toISOString()} (gray time ${seconds} s after batch ${batch.index - 1})`,
        recheckAfterMs: left,
      });
    });
  }
}
