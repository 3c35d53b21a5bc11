import type { PluginClass } from '../core/plugin.ts';
import { BizDeactivatePlugin } from './biz-deactivate-plugin.ts';

/** Built-in plugins by the name configs use (ARCHITECTURE §3.6). Options are validated by each class's schema. */
export const BUILT_IN_PLUGINS: ReadonlyMap<string, PluginClass> = new Map<string, PluginClass>([
  [BizDeactivatePlugin.pluginName, BizDeactivatePlugin as unknown as PluginClass],
]);

export { BizDeactivatePlugin };
