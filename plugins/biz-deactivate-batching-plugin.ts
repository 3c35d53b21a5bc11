import type { V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { moduleKey, podModules } from '../core/module/module-pod.ts';
import type { Orchestrator } from '../core/orchestrator.ts';
import type { KmcPlugin } from '../core/plugin.ts';
import { replicaSetsOf } from '../core/rollout/deployment-revisions.ts';
import type { RolloutView } from '../core/rollout/rollout-types.ts';
import type { ConfigStrategy } from '../core/rollout/strategy.ts';
import type { BizStatus } from '../core/tunnel/tunnel.ts';

const optionsSchema = z.object({}).strict().prefault({});

/**
 * The other versions of the target's modules that still run ACTIVATED on a base, and that the rollout waits
 * for: all of them except those a pod of another workload (or a bare pod) runs there, which this rollout never
 * removes — waiting for them would hold the batch for ever. Pure.
 */
export function otherVersionsActive(
  target: ReadonlyMap<string, string>,
  inventory: ReadonlyMap<string, BizStatus>,
  keptByOthers: ReadonlySet<string>,
): string[] {
  return [...inventory.values()]
    .filter((status) => {
      const current = target.get(status.bizName);
      return (
        current !== undefined &&
        status.bizVersion !== current &&
        status.state === 'ACTIVATED' &&
        !keptByOthers.has(moduleKey(status.bizName, status.bizVersion))
      );
    })
    .map((status) => moduleKey(status.bizName, status.bizVersion));
}

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
      const target = new Map(
        podModules({ spec: rollout.deployment.spec?.template.spec ?? { containers: [] } }).modules.map(
          (m) => [m.bizName, m.bizVersion],
        ),
      );
      const nodes = new Set(
        batch.pods
          .filter((pod) => orchestrator.modules.isAdmitted(pod))
          .flatMap((pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : [])),
      );
      const ours = this.#ownedBy(orchestrator, rollout);
      for (const node of nodes) {
        const keptByOthers = this.#keptByOthers(orchestrator, node, ours);
        if (otherVersionsActive(target, orchestrator.modules.inventoryOf(node), keptByOthers).length > 0)
          return Promise.resolve(false);
      }
      return Promise.resolve(undefined);
    });
  }

  /** Whether a pod belongs to the rolled-out Deployment (any of its ReplicaSets). */
  #ownedBy(orchestrator: Orchestrator, rollout: RolloutView): (pod: V1Pod) => boolean {
    const sets = replicaSetsOf(rollout.deployment, orchestrator.caches.replicaSets.list(rollout.namespace));
    const uids = new Set(sets.map((rs) => rs.metadata?.uid));
    return (pod) =>
      pod.metadata?.ownerReferences?.some((ref) => ref.controller && uids.has(ref.uid)) ?? false;
  }

  /** The module instances that running pods of other owners claim on a node. */
  #keptByOthers(orchestrator: Orchestrator, node: string, ours: (pod: V1Pod) => boolean): Set<string> {
    const claimed = orchestrator.modules.pods
      .onNode(node)
      .filter(
        (pod) => !pod.metadata?.deletionTimestamp && !ours(pod) && orchestrator.modules.isAdmitted(pod),
      );
    return new Set(
      claimed.flatMap((pod) => podModules(pod).modules.map((m) => moduleKey(m.bizName, m.bizVersion))),
    );
  }
}
