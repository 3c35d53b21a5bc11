import { isAbsolute, resolve as resolvePath, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import type { KmcPlugin, PluginClass, PluginFactory } from '../core/plugin.ts';
import { BUILT_IN_PLUGINS } from '../plugins/index.ts';
import type { PluginEntry } from './config-schema.ts';
import { displayPath, formatIssues } from './load-config.ts';

/**
 * Turns the config's plugin entries into plugin objects: built-in names, paths (relative to the config file)
 * and package names of custom plugins, `[name, options]` tuples, and plugin objects from TS configs. Options are
 * validated by the plugin's schema; a bad option fails naming the file, the plugin and the field.
 */
export async function resolvePlugins(
  entries: readonly PluginEntry[],
  configFile: string | undefined,
): Promise<KmcPlugin[]> {
  const plugins: KmcPlugin[] = [];
  for (const [index, entry] of entries.entries()) {
    const where = `${configFile ? displayPath(configFile) : 'config'}: plugins[${index}]`;
    if (typeof entry === 'object' && !Array.isArray(entry)) {
      plugins.push(entry as KmcPlugin);
      continue;
    }
    const [specifier, options] = typeof entry === 'string' ? [entry, undefined] : entry;
    const builtIn = BUILT_IN_PLUGINS.get(specifier);
    if (builtIn) {
      plugins.push(new builtIn(validateOptions(builtIn, options, where)));
      continue;
    }
    plugins.push(await loadCustom(specifier, options, configFile, where));
  }
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (seen.has(plugin.name)) {
      throw new ConfigError(
        `${configFile ? displayPath(configFile) : 'config'}: plugin "${plugin.name}" is listed twice`,
      );
    }
    seen.add(plugin.name);
  }
  return plugins;
}

function validateOptions<O>(
  plugin: { readonly pluginName: string; readonly optionsSchema?: z.ZodType<O> | undefined },
  options: unknown,
  where: string,
): O {
  if (!plugin.optionsSchema) {
    if (options !== undefined)
      throw new ConfigError(`${where}: plugin "${plugin.pluginName}" takes no options`);
    return undefined as O;
  }
  const parsed = plugin.optionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new ConfigError(formatIssues(parsed.error, `${where} (plugin "${plugin.pluginName}") options`));
}

async function loadCustom(
  specifier: string,
  options: unknown,
  configFile: string | undefined,
  where: string,
): Promise<KmcPlugin> {
  const base = configFile ? dirname(configFile) : process.cwd();
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  const target = isPath ? pathToFileURL(resolvePath(base, specifier)).href : specifier;
  let loaded: { default?: unknown };
  try {
    loaded = (await import(target)) as { default?: unknown };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
    if (missing && !isPath) {
      throw new ConfigError(
        `${where}: unknown plugin "${specifier}": not a built-in plugin (${[...BUILT_IN_PLUGINS.keys()].join(', ')}) ` +
          'and no installed package of that name; custom plugins are given by path (./plugins/x.ts) or package name',
        { cause: error },
      );
    }
    throw new ConfigError(`${where}: cannot load plugin "${specifier}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exported: unknown = loaded.default ?? loaded;
  if (typeof exported === 'function' && 'pluginName' in exported) {
    const pluginClass = exported as PluginClass;
    return new pluginClass(validateOptions(pluginClass, options, where));
  }
  if (typeof exported === 'object' && exported !== null && 'create' in exported && 'pluginName' in exported) {
    const factory = exported as PluginFactory;
    return factory.create(validateOptions(factory, options, where));
  }
  if (typeof exported === 'object' && exported !== null && 'apply' in exported && 'name' in exported) {
    if (options !== undefined)
      throw new ConfigError(`${where}: plugin "${specifier}" is an object and takes no options`);
    return exported as KmcPlugin;
  }
  throw new ConfigError(
    `${where}: "${specifier}" does not export a kmc plugin (a class with static pluginName, a { pluginName, create } ` +
      'factory, or a { name, apply } object)',
  );
}
