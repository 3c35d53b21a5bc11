export { defineConfig, type UserConfig, type KmcConfig, type PluginEntry } from './define-config.ts';
export { loadConfig, parseConfig } from './load-config.ts';
export { resolvePlugins } from './resolve-plugins.ts';
export { configSchema } from './config-schema.ts';
