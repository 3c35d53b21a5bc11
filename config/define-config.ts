import type { UserConfig } from './config-schema.ts';

export type { UserConfig, KmcConfig, PluginEntry } from './config-schema.ts';

/**
 * Types a TypeScript config file (koupleless.config.ts), in the style of Vite: an identity function whose only
 * job is inference. Plugins may be given as names, `[name, options]` tuples, or plugin objects.
 */
export function defineConfig<const C extends UserConfig>(config: C): C {
  return config;
}
