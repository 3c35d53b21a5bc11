import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PluginEntry } from '../../../config/config-schema.ts';
import { resolvePlugins } from '../../../config/resolve-plugins.ts';
import { ConfigError } from '../../../core/errors.ts';
import { createHooks } from '../../../core/hooks.ts';
import type { Orchestrator } from '../../../core/orchestrator.ts';
import { INSTALL_HELD } from '../../../core/module/module-pod.ts';
import type { KmcPlugin } from '../../../core/plugin.ts';
import { BizDeactivatePlugin } from '../../../plugins/index.ts';

/** Plugin files in the temp dir import zod by URL: there is no node_modules next to them. */
const ZOD_URL = import.meta.resolve('zod');

let dir = '';
let configFile = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmc-plugins-'));
  configFile = join(dir, 'koupleless.config.yaml');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pluginFile(name: string, source: string): Promise<string> {
  await writeFile(join(dir, name), source);
  return `./${name}`;
}

const CLASS_PLUGIN = `
import { z } from ${JSON.stringify(ZOD_URL)};
export default class GreeterPlugin {
  static pluginName = 'greeter';
  static optionsSchema = z.object({ greeting: z.string().default('hello') }).strict().prefault({});
  name = 'greeter';
  options;
  constructor(options) {
    this.options = options;
  }
  apply() {}
}
`;

async function failure(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** Runs the biz-deactivate plugin's podStatus tap on a pod whose only module is DEACTIVATED. */
function phaseWithDeactivatedModule(plugin: KmcPlugin): string | undefined {
  const hooks = createHooks();
  // A bare pod (no workload wants it any more) whose install was admitted: the case failPod fails.
  const modules = { workloads: { ownerOf: () => undefined, isCurrentRevision: () => false } };
  plugin.apply({ hooks, modules } as unknown as Orchestrator);
  const status: V1PodStatus = {
    phase: 'Running',
    conditions: [{ type: INSTALL_HELD, status: 'False' }],
    containerStatuses: [
      {
        name: 'biz1',
        image: 'https://repo.example/biz1.jar',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: 'SWITCHED', message: 'deactivated' } },
      },
    ],
  };
  const pod: V1Pod = { metadata: { name: 'p', namespace: 'ns' } };
  const result = hooks.podStatus.call(status, pod, {
    base: undefined,
    modules: [
      {
        container: 'biz1',
        bizVersion: '1.0.0',
        status: {
          bizName: 'biz1',
          bizVersion: '1.0.0',
          state: 'DEACTIVATED',
          rawState: 'deactivated',
          reason: 'SWITCHED',
          message: 'deactivated',
          changeTime: 0,
        },
      },
    ],
  });
  return result.phase;
}

describe('resolvePlugins: built-in plugins', () => {
  it('creates biz-deactivate from its name, with default options', async () => {
    const [plugin, ...rest] = await resolvePlugins(['biz-deactivate'], configFile);
    expect(rest).toEqual([]);
    expect(plugin).toBeInstanceOf(BizDeactivatePlugin);
    expect(plugin?.name).toBe('biz-deactivate');
    expect(phaseWithDeactivatedModule(plugin ?? BizDeactivatePlugin.prototype)).toBe('Running');
  });

  it('passes validated options from a [name, options] tuple', async () => {
    const [plugin] = await resolvePlugins([['biz-deactivate', { failPod: true }]], configFile);
    expect(plugin).toBeInstanceOf(BizDeactivatePlugin);
    expect(phaseWithDeactivatedModule(plugin ?? BizDeactivatePlugin.prototype)).toBe('Failed');
  });

  it('refuses bad options naming the file, the entry, the plugin and the field', async () => {
    const error = await failure(
      resolvePlugins(['biz-deactivate', ['biz-deactivate', { failPod: 'yes' }]], configFile),
    );
    expect(error.message).toContain(`${configFile}: plugins[1] (plugin "biz-deactivate") options: failPod: `);
  });

  it('refuses unknown options of a built-in plugin', async () => {
    const error = await failure(resolvePlugins([['biz-deactivate', { failpod: true }]], undefined));
    expect(error.message).toContain(
      'config: plugins[0] (plugin "biz-deactivate") options: (top level): Unrecognized key',
    );
  });

  it('refuses an unknown name, listing the built-in plugins', async () => {
    const error = await failure(resolvePlugins(['no-such-kmc-plugin'], configFile));
    expect(error.message).toContain(`${configFile}: plugins[0]: unknown plugin "no-such-kmc-plugin"`);
    expect(error.message).toContain('biz-deactivate');
  });
});

describe('resolvePlugins: custom plugins', () => {
  it('loads a class with static pluginName and optionsSchema by a path relative to the config file', async () => {
    const path = await pluginFile('greeter.ts', CLASS_PLUGIN);
    const [plugin] = await resolvePlugins([[path, { greeting: 'hi' }]], configFile);
    expect(plugin?.name).toBe('greeter');
    expect((plugin as unknown as { options: unknown }).options).toEqual({ greeting: 'hi' });
  });

  it("validates a custom class plugin's options with its schema, defaults included", async () => {
    const path = await pluginFile('greeter.ts', CLASS_PLUGIN);
    const [plugin] = await resolvePlugins([path], configFile);
    expect((plugin as unknown as { options: unknown }).options).toEqual({ greeting: 'hello' });
    const error = await failure(resolvePlugins([[path, { greeting: 42 }]], configFile));
    expect(error.message).toContain(`${configFile}: plugins[0] (plugin "greeter") options: greeting: `);
  });

  it('loads a plugin by absolute path', async () => {
    await pluginFile('greeter.ts', CLASS_PLUGIN);
    const [plugin] = await resolvePlugins([join(dir, 'greeter.ts')], undefined);
    expect(plugin?.name).toBe('greeter');
  });

  it('loads a { name, apply } object and refuses options for it', async () => {
    const path = await pluginFile('object.ts', "export default { name: 'object-plugin', apply() {} };\n");
    const [plugin] = await resolvePlugins([path], configFile);
    expect(plugin?.name).toBe('object-plugin');
    expect(typeof plugin?.apply).toBe('function');
    const error = await failure(resolvePlugins([[path, { x: 1 }]], configFile));
    expect(error.message).toContain(`plugins[0]: plugin "${path}" is an object and takes no options`);
  });

  it('loads a { pluginName, create } factory without a schema, and refuses options for it', async () => {
    const path = await pluginFile(
      'factory.ts',
      "export default { pluginName: 'made', create() { return { name: 'made', apply() {} }; } };\n",
    );
    const [plugin] = await resolvePlugins([path], configFile);
    expect(plugin?.name).toBe('made');
    const error = await failure(resolvePlugins([[path, { x: 1 }]], configFile));
    expect(error.message).toContain('plugin "made" takes no options');
  });

  it('refuses a file that exports nothing usable, saying what a plugin must export', async () => {
    const path = await pluginFile('nothing.ts', 'export const answer = 42;\n');
    const error = await failure(resolvePlugins([path], configFile));
    expect(error.message).toContain(`${configFile}: plugins[0]: "${path}" does not export a kmc plugin`);
    expect(error.message).toContain('static pluginName');
  });

  it('refuses a path that does not exist, naming it', async () => {
    const error = await failure(resolvePlugins(['./missing.ts'], configFile));
    expect(error.message).toContain(`${configFile}: plugins[0]: cannot load plugin "./missing.ts"`);
  });

  it('passes plugin objects of TS configs through as they are', async () => {
    const inline: KmcPlugin = { name: 'inline', apply: () => undefined };
    expect(await resolvePlugins([inline as PluginEntry], undefined)).toEqual([inline]);
  });
});

describe('resolvePlugins: names', () => {
  it('refuses a plugin listed twice', async () => {
    const error = await failure(resolvePlugins(['biz-deactivate', ['biz-deactivate', {}]], configFile));
    expect(error.message).toContain('plugin "biz-deactivate" is listed twice');
  });

  it('refuses two plugins of different origins with the same name', async () => {
    const path = await pluginFile('object.ts', "export default { name: 'biz-deactivate', apply() {} };\n");
    const error = await failure(resolvePlugins(['biz-deactivate', path], configFile));
    expect(error.message).toContain('plugin "biz-deactivate" is listed twice');
  });

  it('keeps the order of the config', async () => {
    const path = await pluginFile('greeter.ts', CLASS_PLUGIN);
    const plugins = await resolvePlugins([path, 'biz-deactivate'], configFile);
    expect(plugins.map((p) => p.name)).toEqual(['greeter', 'biz-deactivate']);
  });
});
