import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { z } from 'zod';
import type { PodModuleReport } from '../core/hooks.ts';
import { INSTALL_HELD } from '../core/module/module-pod.ts';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { BizStatus } from '../core/tunnel/tunnel.ts';
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
    orchestrator.hooks.podStatus.tap(this.name, (status, pod, report) => {
      // A held pod runs nothing: what the base reports for its module belongs to another pod (a held replacement
      // on a base that switched sees the old instance DEACTIVATED until it is uninstalled). Failing it would make
      // its ReplicaSet create another replacement, held and failed in turn.
      if (!isAdmitted(status)) return status;
      const deactivated = report.modules.filter((m) => m.status?.state === 'DEACTIVATED');
      if (deactivated.length === 0) return status;
      const names = deactivated.map((m) => `${m.container}:${m.bizVersion}`).join(', ');
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
        ...(this.#options.failPod && this.#fails(orchestrator, pod, report) ? { phase: 'Failed' } : {}),
      };
    });
  }

  /**
   * Failed only when every module of the pod was switched away (the base activated another version in its
   * place), and the pod is not what its workload currently wants: a current-revision pod whose module the base
   * installed deactivated is being updated uninstall-first, and failing it would only churn.
   */
  #fails(orchestrator: Orchestrator, pod: V1Pod, report: PodModuleReport): boolean {
    const inventory = report.base ? orchestrator.modules.inventoryOf(report.base.nodeName) : new Map();
    const switched = report.modules.every((m) => m.status && switchedAway(m.status, inventory));
    if (!switched) return false;
    const workloads = orchestrator.modules.workloads;
    return !workloads.ownerOf(pod) || !workloads.isCurrentRevision(pod);
  }
}

function isAdmitted(status: V1PodStatus): boolean {
  return status.conditions?.some((c) => c.type === INSTALL_HELD && c.status === 'False') ?? false;
}

/**
 * DEACTIVATED by a switch (reason SWITCHED), or, from a base that keeps no state records (no reason), while
 * another version of it runs ACTIVATED. A version installed deactivated beside a running one says STARTED.
 */
function switchedAway(status: BizStatus, inventory: ReadonlyMap<string, BizStatus>): boolean {
  if (status.state !== 'DEACTIVATED') return false;
  if (status.reason?.toUpperCase() === 'SWITCHED') return true;
  if (status.reason) return false;
  return [...inventory.values()].some(
    (other) =>
      other.bizName === status.bizName &&
      other.bizVersion !== status.bizVersion &&
      other.state === 'ACTIVATED',
  );
}
