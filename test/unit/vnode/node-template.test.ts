import { describe, expect, it } from 'vitest';
import type { BaseLiveness, BaseRecord } from '../../../core/vnode/base-registry.ts';
import { VIRTUAL_NODE_TAINT } from '../../../core/vnode/node-names.ts';
import {
  nodeConditions,
  nodeFieldsFor,
  readyStateFor,
  type NodeTemplateSettings,
  type ReadyState,
} from '../../../core/vnode/node-template.ts';

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const SETTINGS: NodeTemplateSettings = {
  env: 'dev',
  stack: 'java',
  zone: undefined,
  capacity: { pods: 110, cpu: '1000', memory: '1Ti' },
};

function record(overrides: Partial<BaseRecord> = {}): BaseRecord {
  return {
    baseId: '10.244.0.12',
    nodeName: 'virtual-node-10.244.0.12',
    metadata: { identity: '10.244.0.12', name: 'base', version: '1.0.0', clusterName: 'default' },
    localIP: '10.244.0.12',
    hostname: 'base-5f9c7d-x2k4p',
    lastHeardAt: 0,
    heardSinceStart: true,
    adoptedReady: false,
    deactivatedAt: undefined,
    replacedBy: undefined,
    processStartedAt: undefined,
    memory: undefined,
    ...overrides,
  };
}

describe('nodeFieldsFor', () => {
  it('labels the node from the base metadata and the settings', () => {
    expect(nodeFieldsFor(record(), SETTINGS).labels).toEqual({
      'base.koupleless.io/name': 'base',
      'base.koupleless.io/version': '1.0.0',
      'base.koupleless.io/stack': 'java',
      'base.koupleless.io/cluster-name': 'default',
      'base.koupleless.io/host-name': 'base-5f9c7d-x2k4p',
      'kubernetes.io/hostname': 'virtual-node-10.244.0.12',
      type: 'virtual-kubelet',
      'virtual-kubelet.koupleless.io/env': 'dev',
      'virtual-kubelet.koupleless.io/component': 'vnode',
    });
  });

  it('adds the zone label only when a zone is configured', () => {
    expect(nodeFieldsFor(record(), SETTINGS).labels).not.toHaveProperty(['topology.kubernetes.io/zone']);
    expect(nodeFieldsFor(record(), { ...SETTINGS, zone: '' }).labels).not.toHaveProperty([
      'topology.kubernetes.io/zone',
    ]);
    expect(
      nodeFieldsFor(record(), { ...SETTINGS, zone: 'zone-a' }).labels['topology.kubernetes.io/zone'],
    ).toBe('zone-a');
  });

  it('makes free-text metadata valid label values', () => {
    const labels = nodeFieldsFor(
      record({
        metadata: { identity: 'x', name: 'my base (prod)', version: '1.0.0 beta', clusterName: '' },
        hostname: '-host-',
      }),
      SETTINGS,
    ).labels;
    expect(labels['base.koupleless.io/name']).toBe('my_base__prod');
    expect(labels['base.koupleless.io/version']).toBe('1.0.0_beta');
    expect(labels['base.koupleless.io/cluster-name']).toBe('');
    expect(labels['base.koupleless.io/host-name']).toBe('host');
  });

  it('keeps every label a valid label value when the node name is longer than a label allows', () => {
    // 64 characters; the 63rd is the dot
    const nodeName = `virtual-node-${'a'.repeat(49)}.b`;
    const labels = nodeFieldsFor(record({ nodeName }), SETTINGS).labels;
    for (const [key, value] of Object.entries(labels)) {
      if (value === '') continue;
      expect(value.length, key).toBeLessThanOrEqual(63);
      expect(value, key).toMatch(LABEL_VALUE);
    }
  });

  it('annotates the raw base id and the env', () => {
    expect(nodeFieldsFor(record({ baseId: 'Base_1' }), SETTINGS).annotations).toEqual({
      'kmc.koupleless.io/base-id': 'Base_1',
      'kmc.koupleless.io/env': 'dev',
    });
  });

  it('taints the node with the one virtual-node taint, as a fresh object', () => {
    const fields = nodeFieldsFor(record(), SETTINGS);
    expect(fields.taints).toEqual([
      { key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' },
    ]);
    expect(fields.taints[0]).not.toBe(VIRTUAL_NODE_TAINT);
  });

  it('gives capacity and allocatable the configured figures while the base reports no memory', () => {
    const fields = nodeFieldsFor(record(), SETTINGS);
    expect(fields.capacity).toEqual({ pods: '110', cpu: '1000', memory: '1Ti' });
    expect(fields.allocatable).toEqual({ pods: '110', cpu: '1000', memory: '1Ti' });
  });

  it('takes memory from the metaspace the base reports, in whole KiB', () => {
    const fields = nodeFieldsFor(
      record({ memory: { capacityBytes: 268_435_456, allocatableBytes: 184_549_376 + 1023 } }),
      SETTINGS,
    );
    expect(fields.capacity['memory']).toBe('262144Ki');
    expect(fields.allocatable['memory']).toBe('180224Ki');
    expect(fields.capacity['pods']).toBe('110');
    expect(fields.allocatable['cpu']).toBe('1000');
  });

  it('uses the configured module cap and stack', () => {
    const fields = nodeFieldsFor(record(), {
      ...SETTINGS,
      stack: 'go',
      env: 'prod',
      capacity: { pods: 5, cpu: '64', memory: '8Gi' },
    });
    expect(fields.capacity).toEqual({ pods: '5', cpu: '64', memory: '8Gi' });
    expect(fields.labels['base.koupleless.io/stack']).toBe('go');
    expect(fields.labels['virtual-kubelet.koupleless.io/env']).toBe('prod');
  });
});

describe('readyStateFor', () => {
  const base = record({ baseId: 'base-1' });

  it('leaves the node as it is while the base is unconfirmed', () => {
    expect(readyStateFor(base, { state: 'unconfirmed', silentAfterMs: 1000 })).toBeUndefined();
  });

  it.each<[string, BaseLiveness, ReadyState]>([
    [
      'an alive',
      { state: 'alive', silentAfterMs: 1000 },
      { status: 'True', reason: 'BaseReady', message: 'base base-1 is heartbeating' },
    ],
    [
      'a silent',
      { state: 'silent', sinceMs: 45_400 },
      { status: 'False', reason: 'BaseSilent', message: 'no heartbeat from base base-1 for 45 s' },
    ],
    [
      'a deactivated',
      { state: 'deactivated' },
      { status: 'False', reason: 'BaseDeactivated', message: 'base base-1 reported it is not ACTIVATED' },
    ],
    [
      'a replaced',
      { state: 'replaced', by: 'base-2' },
      {
        status: 'False',
        reason: 'BaseReplaced',
        message: 'base base-2 now reports the IP or hostname of base base-1',
      },
    ],
  ])('gives %s base its Ready status, reason and message', (_what, liveness, expected) => {
    expect(readyStateFor(base, liveness)).toEqual(expected);
  });
});

describe('nodeConditions', () => {
  it('puts Ready first with its own transition time, then the three pressure conditions always False', () => {
    const heartbeat = new Date('2026-01-01T00:10:00Z');
    const readySince = new Date('2026-01-01T00:05:00Z');
    const created = new Date('2026-01-01T00:00:00Z');
    const conditions = nodeConditions(
      { status: 'True', reason: 'BaseReady', message: 'ok' },
      heartbeat,
      readySince,
      created,
    );
    expect(conditions).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'BaseReady',
        message: 'ok',
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: readySince,
      },
      {
        type: 'MemoryPressure',
        status: 'False',
        reason: 'BaseHasSufficientMemory',
        message: 'kmc virtual node',
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: created,
      },
      {
        type: 'DiskPressure',
        status: 'False',
        reason: 'BaseHasNoDiskPressure',
        message: 'kmc virtual node',
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: created,
      },
      {
        type: 'PIDPressure',
        status: 'False',
        reason: 'BaseHasSufficientPID',
        message: 'kmc virtual node',
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: created,
      },
    ]);
  });
});
