import { z } from 'zod';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';

const optionsSchema = z
  .object({
    failPod: z
      .boolean()
      .default(false)
      .describe('Put a pod whose modules are all deactivated in phase Failed (kmc then deletes it).'),
  })
  .strict()
  .prefault({});

type Options = z.output<typeof optionsSchema>;

/**
 * BizDeactivate, as the module-operation docs describe it (off by default). Core already shows the base's
 * reason on the container and `BizDeactivate` on the Ready condition; this plugin also sets the pod's
 * `status.reason` (what `kubectl get pod` shows in STATUS) and, with `failPod`, phase Failed once all of the
 * pod's modules are deactivated — the ReplicaSet then replaces it, which `plan` counts as churn.
 */
export class BizDeactivatePlugin implements KmcPlugin {
  static readonly pluginName = 'biz-deactivate';
  static readonly optionsSchema = optionsSchema;
  static readonly description =
    'status.reason BizDeactivate on deactivated module pods; optionally phase Failed';
  readonly name = BizDeactivatePlugin.pluginName;
  readonly #options: Options;

  constructor(options: Options) {
    this.#options = options;
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.podStatus.tap(this.name, (status, _pod, report) => {
      const deactivated = report.modules.filter((m) => m.status?.state === 'DEACTIVATED');
      if (deactivated.length === 0) return status;
      const names = deactivated.map((m) => `${m.container}:${m.bizVersion}`).join(', ');
      const all = deactivated.length === report.modules.length;
      const containers = new Set(deactivated.map((m) => m.container));
      return {
        ...status,
        // kubectl shows a waiting container's reason over the pod's: both say BizDeactivate, the base's own
        // reason stays in the container's message.
        containerStatuses: (status.containerStatuses ?? []).map((container) => {
          const waiting = container.state?.waiting;
          if (!containers.has(container.name) || !waiting) return container;
          const because = [waiting.reason, waiting.message].filter(Boolean).join(': ');
          return { ...container, state: { waiting: { reason: 'BizDeactivate', message: because } } };
        }),
        reason: 'BizDeactivate',
        message: `deactivated on the base: ${names}`,
        ...(all && this.#options.failPod ? { phase: 'Failed' } : {}),
      };
    });
  }
}
