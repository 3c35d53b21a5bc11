import type { z } from 'zod';
import type { Orchestrator } from './orchestrator.ts';
import type { ConfigStrategy } from './rollout/strategy.ts';

/**
 * A kmc plugin: a name and an `apply` that taps the orchestrator's hooks (webpack's plugin model). Options are
 * validated with the plugin's `optionsSchema` when the config is loaded (config/resolve-plugins.ts), so a bad
 * option stops start-up naming file, plugin and field; a `validate` tap checks what needs more than the options.
 * Plugins keep no state between reconciles: what a strategy must remember lives in Kubernetes objects.
 * docs/plugins.md describes the API; examples/plugins/release-window.ts is a worked custom plugin.
 */
export interface KmcPlugin {
  /** Unique; every tap uses it, so errors and logs name the plugin. */
  readonly name: string;
  apply(orchestrator: Orchestrator): void;
  /**
   * For release-strategy plugins: what listing this plugin in the config sets as every rollout's default
   * (annotations and the ModuleRollout spec still take precedence).
   */
  readonly strategyDefaults?: Partial<ConfigStrategy>;
}

/**
 * A plugin class: a static name and options schema, and a constructor that takes the validated options. Built-in
 * plugins are written this way; a custom plugin module may default-export one.
 */
export interface PluginClass<Options = unknown> {
  readonly pluginName: string;
  readonly optionsSchema: z.ZodType<Options>;
  /** One line for `kmc validate` and the docs. */
  readonly description?: string;
  new (options: Options): KmcPlugin;
}

/** The other shape a custom plugin module may default-export: a factory with the same metadata. */
export interface PluginFactory<Options = unknown> {
  readonly pluginName: string;
  readonly optionsSchema?: z.ZodType<Options>;
  readonly description?: string;
  create(options: Options): KmcPlugin;
}

/** Identity helper that types a plugin written as an object literal. */
export function definePlugin(plugin: KmcPlugin): KmcPlugin {
  return plugin;
}
