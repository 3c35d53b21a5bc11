import type { z } from 'zod';
import type { Orchestrator } from './orchestrator.ts';

/**
 * A kmc plugin: a name and an `apply` that taps the orchestrator's hooks (webpack's plugin model). Options are
 * validated by the plugin itself, in a `validate` tap, so a bad option stops start-up naming plugin and field.
 * Plugins keep no state between reconciles: what a strategy must remember lives in Kubernetes objects.
 */
export interface KmcPlugin {
  /** Unique; every tap uses it, so errors and logs name the plugin. */
  readonly name: string;
  apply(orchestrator: Orchestrator): void;
}

/** The shape of a plugin module's default export for configs that name plugins by path or package. */
export interface PluginFactory<Options = unknown> {
  readonly pluginName: string;
  readonly optionsSchema?: z.ZodType<Options>;
  create(options: Options): KmcPlugin;
}

/** Identity helper that types a plugin written as an object literal. */
export function definePlugin(plugin: KmcPlugin): KmcPlugin {
  return plugin;
}
