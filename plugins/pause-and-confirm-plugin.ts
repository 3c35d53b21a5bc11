import { z } from 'zod';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';

const optionsSchema = z
  .object({
    after: z
      .enum(['each-batch', 'beta'])
      .default('each-batch')
      .describe('Wait for a confirmation after every batch, or after the beta batch only.'),
  })
  .strict()
  .prefault({});

/** Holds of humans come last: every automatic condition is met before someone is asked. */
export const CONFIRM_STAGE = 100;

/**
 * Pause and confirm (the v1 `needConfirm`): before batch n (n ≥ 2) the rollout holds until someone sets the
 * ModuleRollout's `spec.confirmedBatch` to n or more (`kubectl koupleless confirm`, or `kubectl patch`). The
 * confirmation lives on that rollout's own object, so one given to an earlier rollout never applies to a later
 * one. Annotation `rollout.koupleless.io/need-confirm: each-batch | beta | "false"`.
 */
export class PauseAndConfirmPlugin implements KmcPlugin {
  static readonly pluginName = 'pause-and-confirm';
  static readonly optionsSchema = optionsSchema;
  static readonly description =
    'hold before each batch (or after the beta) until spec.confirmedBatch says go';
  readonly name = PauseAndConfirmPlugin.pluginName;
  readonly strategyDefaults: Partial<ConfigStrategy>;

  constructor(options: z.output<typeof optionsSchema>, enabled = true) {
    this.strategyDefaults = enabled ? { needConfirm: options.after } : {};
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.holdBatch.tapPromise({ name: this.name, stage: CONFIRM_STAGE }, (batch, rollout) => {
      const mode = rollout.strategy.needConfirm;
      if (!mode || batch.index < 2) return Promise.resolve(undefined);
      if (mode === 'beta' && batch.index !== 2) return Promise.resolve(undefined);
      if (rollout.confirmedBatch >= batch.index) return Promise.resolve(undefined);
      const name = rollout.deployment.metadata?.name ?? '';
      return Promise.resolve({
        reason: 'AwaitingConfirmation',
        message:
          `batch ${batch.index - 1} is done; batch ${batch.index} waits for a confirmation: ` +
          `kubectl koupleless confirm ${name} --batch ${batch.index} ` +
          `(or kubectl patch modulerollout/${rollout.name} --type merge -p '{"spec":{"confirmedBatch":${batch.index}}}')`,
      });
    });
  }
}
