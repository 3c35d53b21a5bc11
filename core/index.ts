/** kmc's public API: what plugins and embedding programs import. */
export { Orchestrator, type OrchestratorOptions } from './orchestrator.ts';
export { definePlugin, type KmcPlugin, type PluginClass, type PluginFactory } from './plugin.ts';
export {
  createHooks,
  type Hooks,
  type HookName,
  type InstallContext,
  type ModuleEvent,
  type NodeCandidate,
  type PodModuleReport,
  type ScoredNode,
} from './hooks.ts';
export type { Hold } from './hold.ts';
export type { Batch, Plan, RolloutView } from './rollout/rollout-types.ts';
export { KmcError, ConfigError, PluginError, TerminalError, TunnelError } from './errors.ts';
export { SimulatedBase, type SimulatedBaseOptions } from './sim/simulated-base.ts';
export { startEmbeddedBroker } from './broker/embedded-broker.ts';
