import { Counter } from 'prom-client';
import { z } from 'zod';
import { EventRecorder } from '../core/kube/event-recorder.ts';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import { ModuleScheduler } from '../core/scheduling/module-scheduler.ts';
import { SCHEDULING_POLICIES } from '../core/scheduling/policy.ts';

const optionsSchema = z
  .object({
    policy: z
      .enum(SCHEDULING_POLICIES)
      .default('scatter')
      .describe(
        'scatter: the base with the fewest module pods first; stacking: the fullest base still under its cap ' +
          'first. A Deployment (or pod) annotation rollout.koupleless.io/scheduling-policy overrides it, and a ' +
          "ModuleRollout's spec.strategy.schedulingPolicy overrides both for its revision.",
      ),
    schedulerName: z
      .string()
      .min(1)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain, as spec.schedulerName is')
      .default('koupleless')
      .describe(
        'Pods whose spec.schedulerName is this are bound by kmc; others are left to their scheduler.',
      ),
    retrySeconds: z
      .number()
      .positive()
      .default(30)
      .describe('A pod that fits nowhere is tried again this often, besides whenever bases or pods change.'),
  })
  .strict()
  .prefault({});

export type SchedulerOptions = z.input<typeof optionsSchema>;

/**
 * Scheduling strategies (v1 `schedulingPolicy`): binds the module pods whose `spec.schedulerName` is `koupleless`
 * (configurable) through the Binding API, scatter or stacking, honouring nodeSelector, required node affinity,
 * taints and tolerations, required pod (anti-)affinity and the module cap; during an update a pod prefers a base
 * where it replaces another version in place. The cap itself is core (`scheduler.maxModulesPerBase`, published as
 * allocatable pods and enforced at admission), so it holds for the default scheduler too. Users' own rules tap
 * `filterNodes` / `scoreNodes` (docs/scheduling.md, examples/plugins/prefer-newer-bases.ts). The leader binds.
 */
export class SchedulerPlugin implements KmcPlugin {
  static readonly pluginName = 'scheduler';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'binds module pods scatter or stacking, within the per-base module cap';
  readonly name = SchedulerPlugin.pluginName;
  readonly #options: z.output<typeof optionsSchema>;
  #scheduler: ModuleScheduler | undefined;

  constructor(options: z.output<typeof optionsSchema>) {
    this.#options = options;
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.leading.tapPromise(this.name, () => this.#start(orchestrator));
    orchestrator.hooks.shutdown.tapPromise(this.name, async () => {
      await this.#scheduler?.stop();
    });
  }

  async #start(orchestrator: Orchestrator): Promise<void> {
    const logger = orchestrator.getLogger(this.name);
    const { kc, config, metrics, vnodes, modules, caches } = orchestrator;
    const attempts = new Counter({
      name: 'kmc_scheduling_attempts_total',
      help: 'Scheduling decisions of the scheduler plugin, by result (scheduled, unschedulable, error)',
      labelNames: ['result'] as const,
      registers: [metrics.registry],
    });
    this.#scheduler = new ModuleScheduler({
      kc,
      namespaces: config.watch.namespaces,
      schedulerName: this.#options.schedulerName,
      policy: this.#options.policy,
      retryMs: this.#options.retrySeconds * 1000,
      hooks: orchestrator.hooks,
      // Events come from the scheduler, as kube-scheduler's come from default-scheduler.
      events: new EventRecorder(kc, logger, metrics, this.#options.schedulerName),
      logger,
      clock: orchestrator.clock,
      caches,
      workloads: modules.workloads,
      nodes: () => vnodes.nodes.list(),
      onNode: (listener) => {
        vnodes.onNode(listener);
      },
      inventoryOf: (nodeName) => modules.inventoryOf(nodeName),
      attempts,
    });
    await this.#scheduler.start();
    logger.info(
      { schedulerName: this.#options.schedulerName, policy: this.#options.policy },
      'scheduler started',
    );
  }
}
