import { z } from 'zod';
import { podModules } from '../core/module/module-pod.ts';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';

const optionsSchema = z.object({}).strict().prefault({});

/**
 * Batching on BizDeactivate (the module-operation docs' batch update: "the Pod of the earlier-installed module
 * enters BizDeactivate"): a batch completes only when, besides reaching its target, no base of the batch runs
 * another version of the module ACTIVATED. On bases that switch, that is when the new version is activated; on
 * bases that keep both versions active, when the old pod is gone and its instance uninstalled.
 */
export class BizDeactivateBatchingPlugin implements KmcPlugin {
  static readonly pluginName = 'biz-deactivate-batching';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'a batch completes only once its bases run no other version active';
  readonly name = BizDeactivateBatchingPlugin.pluginName;
  readonly strategyDefaults: Partial<ConfigStrategy> = { bizDeactivateBatching: true };

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.isBatchComplete.tapPromise(this.name, (batch, rollout) => {
      if (!rollout.strategy.bizDeactivateBatching) return Promise.resolve(undefined);
      const target = podModules({
        spec: rollout.deployment.spec?.template.spec ?? { containers: [] },
      }).modules;
      const versions = new Map(target.map((m) => [m.bizName, m.bizVersion]));
      for (const pod of batch.pods) {
        const node = pod.spec?.nodeName;
        if (!node || !orchestrator.modules.isAdmitted(pod)) continue;
        for (const status of orchestrator.modules.inventoryOf(node).values()) {
          const current = versions.get(status.bizName);
          if (current !== undefined && status.bizVersion !== current && status.state === 'ACTIVATED')
            return Promise.resolve(false);
        }
      }
      return Promise.resolve(undefined);
    });
  }
}
