import type { V1Lease, V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { baseViews, controllerLeases, diagnose } from '../../../core/cli/kubectl/bases-model.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');

function node(name: string, env: string, ready: boolean, sinceMinutes = 0): V1Node {
  return {
    metadata: {
      name,
      labels: {
        'base.koupleless.io/name': 'base',
        'base.koupleless.io/version': '1.0.0',
        'virtual-kubelet.koupleless.io/env': env,
      },
      annotations: {
        'kmc.koupleless.io/base-id': name.replace('virtual-node-', ''),
        'kmc.koupleless.io/activation-mode': 'switches',
        'kmc.koupleless.io/retentions': JSON.stringify([
          {
            bizName: 'biz1',
            bizVersion: '0.0.1',
            bizUrl: 'https://r/biz1-0.0.1.jar',
            reason: 'rollout',
            workload: { kind: 'Deployment', namespace: 'ns', name: 'biz1', uid: 'u' },
            podUid: 'p',
            since: NOW - 12_000,
          },
        ]),
      },
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'KubeletReady' : 'BaseSilent',
          lastTransitionTime: new Date(NOW - sinceMinutes * 60_000),
        },
      ],
    },
  };
}

const lease = (name: string, renewedSecondsAgo: number, holder = 'kmc-a'): V1Lease => ({
  metadata: { name, namespace: 'kmc-system' },
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: 8,
    renewTime: new Date(NOW - renewedSecondsAgo * 1000),
  },
});

const daemonPod: V1Pod = {
  metadata: {
    name: 'agent-x',
    namespace: 'kube-system',
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'd', controller: true },
    ],
  },
  spec: { nodeName: 'virtual-node-a', containers: [{ name: 'agent', image: 'agent:1' }] },
  status: { conditions: [{ type: 'koupleless.io/NotAModulePod', status: 'True' }] },
};

describe('baseViews', () => {
  it('shows mode, retained instances (with their workload and age) and foreign pods', () => {
    const [view] = baseViews([node('virtual-node-a', 'dev', true)], [daemonPod], NOW);
    expect(view).toMatchObject({ baseId: 'a', mode: 'switches', foreign: ['kube-system/agent-x'] });
    expect(view?.modules).toEqual([
      {
        bizName: 'biz1',
        bizVersion: '0.0.1',
        state: 'retained',
        pod: undefined,
        owner: 'Deployment ns/biz1',
        detail: 'rollout retention for 12s: kept until the workload no longer needs it here',
      },
    ]);
  });
});

describe('diagnose', () => {
  const views = baseViews(
    [node('virtual-node-a', 'dev', true), node('virtual-node-b', 'prod', false, 30)],
    [daemonPod],
    NOW,
  );

  it('reports bases of an env no running kmc serves, a stale node and a DaemonSet on bases', () => {
    const findings = diagnose(views, controllerLeases([lease('kmc-dev', 2)], NOW), [daemonPod], NOW);
    expect(findings.map((f) => [f.severity, f.message])).toEqual([
      [
        'problem',
        'bases of env "prod" (topics koupleless_prod/) have no running kmc: the running ones serve "dev"; ' +
          'set env: prod in the kmc config, or give the bases that env',
      ],
      [
        'warning',
        'node virtual-node-b (base base 1.0.0) is NotReady (BaseSilent) for 30m00s: its base is gone? ' +
          'kmc deletes the node after bases.deleteAfterSeconds',
      ],
      [
        'warning',
        'DaemonSet kube-system/agent puts pods on 1 base node, where they never run: ' +
          'give it the node affinity "type NotIn [virtual-kubelet]"',
      ],
    ]);
  });

  it('says no kmc is running when its Lease is not renewed, or when there is none', () => {
    const stale = diagnose(views.slice(0, 1), controllerLeases([lease('kmc-dev', 60)], NOW), [], NOW);
    expect(stale).toEqual([
      {
        severity: 'problem',
        message: 'no kmc is running: its leader Lease kmc-system/kmc-dev is not renewed',
      },
    ]);
    expect(diagnose(views.slice(0, 1), [], [], NOW)[0]?.message).toContain('no kmc leader Lease');
  });

  it('finds nothing wrong when the running kmc serves every base', () => {
    expect(diagnose(views.slice(0, 1), controllerLeases([lease('kmc-dev', 1)], NOW), [], NOW)).toEqual([]);
  });
});
