import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../config/config-schema.ts';
import { resolvePlugins } from '../../../config/resolve-plugins.ts';
import type { BaseRecord } from '../../../core/vnode/base-registry.ts';
import { nodeFieldsFor, type NodeTemplateSettings } from '../../../core/vnode/node-template.ts';
import { SchedulerPlugin } from '../../../plugins/scheduler-plugin.ts';

function record(name: string, clusterName: string): BaseRecord {
  return {
    baseId: 'b1',
    nodeName: 'virtual-node-b1',
    metadata: { identity: 'b1', name, version: '1.0.0', clusterName },
    localIP: '10.0.0.1',
    hostname: 'b1',
    lastHeardAt: 0,
    heardSinceStart: true,
    adoptedReady: false,
    deactivatedAt: undefined,
    replacedBy: undefined,
    processStartedAt: undefined,
    memory: undefined,
  };
}

const settings = (maxModulesPerBase?: NodeTemplateSettings['maxModulesPerBase']): NodeTemplateSettings => ({
  env: 'dev',
  stack: 'java',
  zone: undefined,
  capacity: { pods: 110, cpu: '1000', memory: '1Ti' },
  maxModulesPerBase,
});

describe('scheduler.maxModulesPerBase in the config', () => {
  it('is optional: without it the config parses as before and bases.capacity.pods is the cap', () => {
    expect(configSchema.parse({}).scheduler).toBeUndefined();
    const fields = nodeFieldsFor(record('base', 'default'), settings());
    expect(fields.allocatable['pods']).toBe('110');
    expect(fields.capacity['pods']).toBe('110');
  });

  it('accepts a number or rules by base name and cluster name, and refuses anything else', () => {
    expect(configSchema.parse({ scheduler: { maxModulesPerBase: 3 } }).scheduler?.maxModulesPerBase).toBe(3);
    const rules = { default: 3, byBaseName: { payments: 5 }, byClusterName: { east: 4 } };
    expect(
      configSchema.parse({ scheduler: { maxModulesPerBase: rules } }).scheduler?.maxModulesPerBase,
    ).toEqual(rules);
    for (const bad of [-1, 1.5, { default: -2 }, { byBaseName: { x: 'three' } }, { byHost: {} }]) {
      expect(
        configSchema.safeParse({ scheduler: { maxModulesPerBase: bad } }).success,
        JSON.stringify(bad),
      ).toBe(false);
    }
    expect(configSchema.safeParse({ scheduler: { policy: 'scatter' } }).success).toBe(false);
  });

  it('is published as the node’s capacity and allocatable pods, by the metadata the base reports', () => {
    const rules = { default: 3, byBaseName: { payments: 5 }, byClusterName: { east: 4 } };
    const pods = (name: string, cluster: string) =>
      nodeFieldsFor(record(name, cluster), settings(rules)).allocatable['pods'];
    expect(pods('payments', 'east')).toBe('5');
    expect(pods('orders', 'east')).toBe('4');
    expect(pods('orders', 'west')).toBe('3');
    expect(nodeFieldsFor(record('x', 'y'), settings(2)).capacity['pods']).toBe('2');
  });
});

describe('the scheduler plugin’s options', () => {
  it('default to scatter, schedulerName koupleless and a 30 s retry', () => {
    expect(SchedulerPlugin.optionsSchema.parse(undefined)).toEqual({
      policy: 'scatter',
      schedulerName: 'koupleless',
      retrySeconds: 30,
    });
  });

  it('are validated when the config is loaded, naming the plugin and the field', async () => {
    await expect(resolvePlugins([['scheduler', { policy: 'spread' }]], undefined)).rejects.toThrow(
      /plugin "scheduler"\) options: policy/,
    );
    await expect(resolvePlugins([['scheduler', { schedulerName: 'Not A Name' }]], undefined)).rejects.toThrow(
      /schedulerName/,
    );
    const [plugin] = await resolvePlugins([['scheduler', { policy: 'stacking' }]], undefined);
    expect(plugin?.name).toBe('scheduler');
  });
});
