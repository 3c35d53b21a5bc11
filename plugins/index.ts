import type { KmcPlugin, PluginClass } from '../core/plugin.ts';
import { BatchesPlugin } from './batches-plugin.ts';
import { BetaFirstPlugin } from './beta-first-plugin.ts';
import { BizDeactivateBatchingPlugin } from './biz-deactivate-batching-plugin.ts';
import { BizDeactivatePlugin } from './biz-deactivate-plugin.ts';
import { GrayTimePlugin } from './gray-time-plugin.ts';
import { MaxUnavailablePlugin } from './max-unavailable-plugin.ts';
import { PauseAndConfirmPlugin } from './pause-and-confirm-plugin.ts';
import { PeerReplicaSyncerPlugin } from './peer-replica-syncer-plugin.ts';
import { SchedulerPlugin } from './scheduler-plugin.ts';

/** Built-in plugins by the name configs use (ARCHITECTURE §3.6). Options are validated by each class's schema. */
export const BUILT_IN_PLUGINS: ReadonlyMap<string, PluginClass> = new Map<string, PluginClass>([
  [BizDeactivatePlugin.pluginName, BizDeactivatePlugin as unknown as PluginClass],
  [BatchesPlugin.pluginName, BatchesPlugin as unknown as PluginClass],
  [BetaFirstPlugin.pluginName, BetaFirstPlugin as unknown as PluginClass],
  [PauseAndConfirmPlugin.pluginName, PauseAndConfirmPlugin as unknown as PluginClass],
  [GrayTimePlugin.pluginName, GrayTimePlugin as unknown as PluginClass],
  [MaxUnavailablePlugin.pluginName, MaxUnavailablePlugin as unknown as PluginClass],
  [BizDeactivateBatchingPlugin.pluginName, BizDeactivateBatchingPlugin],
  [PeerReplicaSyncerPlugin.pluginName, PeerReplicaSyncerPlugin as unknown as PluginClass],
  [SchedulerPlugin.pluginName, SchedulerPlugin as unknown as PluginClass],
]);

/**
 * The release-strategy plugins a Deployment annotation can switch on. Each is applied even when the config does
 * not list it — off by default then — so `rollout.koupleless.io/batch-count` and friends work everywhere.
 */
export function implicitStrategyPlugins(configured: readonly KmcPlugin[]): KmcPlugin[] {
  const present = new Set(configured.map((plugin) => plugin.name));
  const implicit: KmcPlugin[] = [];
  if (!present.has(BatchesPlugin.pluginName)) implicit.push(new BatchesPlugin({}));
  if (!present.has(BetaFirstPlugin.pluginName)) implicit.push(new BetaFirstPlugin({}, false));
  if (!present.has(PauseAndConfirmPlugin.pluginName))
    implicit.push(new PauseAndConfirmPlugin({ after: 'each-batch' }, false));
  if (!present.has(GrayTimePlugin.pluginName)) implicit.push(new GrayTimePlugin({ seconds: 0 }));
  if (!present.has(MaxUnavailablePlugin.pluginName)) implicit.push(new MaxUnavailablePlugin({}, false));
  return implicit;
}

export {
  BatchesPlugin,
  BetaFirstPlugin,
  BizDeactivateBatchingPlugin,
  BizDeactivatePlugin,
  GrayTimePlugin,
  MaxUnavailablePlugin,
  PauseAndConfirmPlugin,
  PeerReplicaSyncerPlugin,
  SchedulerPlugin,
};
