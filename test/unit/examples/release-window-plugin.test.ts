import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../../config/load-config.ts';
import { resolvePlugins } from '../../../config/resolve-plugins.ts';
import { ConfigError } from '../../../core/errors.ts';
import { createHooks } from '../../../core/hooks.ts';
import type { Orchestrator } from '../../../core/orchestrator.ts';
import type { KmcPlugin } from '../../../core/plugin.ts';
import type { Batch, RolloutView } from '../../../core/rollout/rollout-types.ts';
import ReleaseWindowPlugin, { MAX_RECHECK_MS } from '../../../examples/plugins/release-window.ts';

const PLUGIN_FILE = fileURLToPath(new URL('../../../examples/plugins/release-window.ts', import.meta.url));
const EXAMPLE_CONFIG = fileURLToPath(
  new URL('../../../examples/release-window.config.yaml', import.meta.url),
);

const batch = (index: number): Batch => ({
  index,
  target: index * 2,
  previousTarget: (index - 1) * 2,
  pods: [],
});
/** Applies the plugin to real hooks and asks holdBatch as the engine does, at the engine's instant `at`. */
function applied(plugin: KmcPlugin) {
  const hooks = createHooks();
  plugin.apply({ hooks } as unknown as Orchestrator);
  return {
    // The plugin reads only the engine's instant from the rollout.
    holdBatch: (index: number, at: string) =>
      hooks.holdBatch.promise(batch(index), { now: Date.parse(at) } as RolloutView),
  };
}

describe('release-window plugin: holds', () => {
  // Weekdays 09:00-17:00 Berlin time; 2025-06-02 is a Monday (CEST, UTC+2).
  const plugin = new ReleaseWindowPlugin(
    ReleaseWindowPlugin.optionsSchema.parse({
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    }),
  );

  it('holds a batch outside every window, until the next opening', async () => {
    const { holdBatch } = applied(plugin);
    const hold = await holdBatch(2, '2025-06-02T06:30:00Z'); // 08:30 in Berlin
    expect(hold).toEqual({
      reason: 'ReleaseWindow',
      message:
        'batch 2 starts in the next release window, 2025-06-02T07:00:00.000Z ' +
        '(2025-06-02 09:00:00 Europe/Berlin; windows: mon,tue,wed,thu,fri 09:00-17:00)',
      recheckAfterMs: 30 * 60_000,
    });
  });

  it('lets a batch start inside a window', async () => {
    const { holdBatch } = applied(plugin);
    expect(await holdBatch(2, '2025-06-02T07:00:00Z')).toBeUndefined();
    expect(await holdBatch(3, '2025-06-06T14:59:59Z')).toBeUndefined(); // Friday 16:59:59
  });

  it('decides from the clock alone: the same instant gives the same answer, a later one a shorter wait', async () => {
    const { holdBatch } = applied(plugin);
    const first = await holdBatch(2, '2025-06-02T06:00:00Z');
    expect(await holdBatch(2, '2025-06-02T06:00:00Z')).toEqual(first);
    expect((await holdBatch(2, '2025-06-02T06:59:00Z'))?.recheckAfterMs).toBe(60_000);
  });

  it('asks to be looked at again at least hourly during a long hold', async () => {
    const { holdBatch } = applied(plugin);
    const hold = await holdBatch(2, '2025-06-06T15:00:00Z'); // Friday 17:00: next opening Monday 09:00
    expect(hold?.message).toContain('2025-06-09T07:00:00.000Z');
    expect(hold?.recheckAfterMs).toBe(MAX_RECHECK_MS);
  });

  it('holds the first batch too by default, and not with firstBatchToo: false', async () => {
    expect((await applied(plugin).holdBatch(1, '2025-06-07T10:00:00Z'))?.reason).toBe('ReleaseWindow');
    const canary = new ReleaseWindowPlugin(
      ReleaseWindowPlugin.optionsSchema.parse({
        firstBatchToo: false,
        windows: [{ from: '09:00', to: '17:00' }],
      }),
    );
    const { holdBatch } = applied(canary);
    expect(await holdBatch(1, '2025-06-07T20:00:00Z')).toBeUndefined();
    expect((await holdBatch(2, '2025-06-07T20:00:00Z'))?.reason).toBe('ReleaseWindow');
  });

  it('defaults the time zone to UTC', () => {
    const options = ReleaseWindowPlugin.optionsSchema.parse({ windows: [{ from: '09:00', to: '17:00' }] });
    expect(options).toEqual({
      windows: [{ from: '09:00', to: '17:00' }],
      timeZone: 'UTC',
      firstBatchToo: true,
    });
  });
});

describe('release-window plugin: loading and options', () => {
  let dir = '';
  let configFile = '';
  let pluginPath = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kmc-release-window-'));
    configFile = join(dir, 'koupleless.config.yaml');
    // A path relative to the config file, as users write it.
    pluginPath = relative(dir, PLUGIN_FILE);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(options: unknown): Promise<KmcPlugin[]> {
    await writeFile(configFile, stringify({ plugins: [[pluginPath, options]] }));
    const { config, file } = await loadConfig({ file: configFile });
    return resolvePlugins(config.plugins, file);
  }

  async function refusal(options: unknown): Promise<string> {
    try {
      await load(options);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  }

  it('is loaded by a path relative to the config file, with its options', async () => {
    expect(pluginPath.startsWith('.')).toBe(true);
    const [plugin, ...rest] = await load({ windows: [{ from: '22:00', to: '02:00' }] });
    expect(rest).toEqual([]);
    expect(plugin).toBeInstanceOf(ReleaseWindowPlugin);
    expect(plugin?.name).toBe('release-window');
  });

  it.each([
    [{ windows: [{ from: '25:00', to: '26:00' }] }, 'windows.0.from: expected a wall-clock time'],
    [{ windows: [{ from: '09:00', to: '24:01' }] }, 'windows.0.to: expected a wall-clock time'],
    [{ windows: [{ from: '09:00', to: '09:00' }] }, 'windows.0.to: from and to must differ'],
    [{ windows: [{ days: ['monday'], from: '09:00', to: '10:00' }] }, 'windows.0.days.0: '],
    [{ windows: [{ days: [], from: '09:00', to: '10:00' }] }, 'windows.0.days: '],
    [{ windows: [] }, 'windows: '],
    [
      { windows: [{ from: '09:00', to: '10:00' }], timeZone: 'Mars/Olympus_Mons' },
      'timeZone: not a time zone',
    ],
    [{ windows: [{ from: '09:00', to: '10:00' }], firstBatch: false }, '(top level): Unrecognized key'],
    [undefined, '(top level): '],
  ])('refuses %j naming the file, the plugin and the field', async (options, field) => {
    const message = await refusal(options);
    expect(message).toContain(`${configFile}: plugins[0] (plugin "release-window") options: ${field}`);
  });

  it('loads the example config, which selects it by path next to batches and gray time', async () => {
    const { config, file } = await loadConfig({ file: EXAMPLE_CONFIG });
    const plugins = await resolvePlugins(config.plugins, file);
    expect(plugins.map((p) => p.name)).toEqual(['batches', 'gray-time', 'release-window']);
    expect(plugins[2]).toBeInstanceOf(ReleaseWindowPlugin);
  });
});
