import type { V1Deployment, V1Node, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { statusModel, type StatusInput } from '../../../core/cli/kubectl/status-model.ts';
import { formatDuration, renderStatus } from '../../../core/cli/kubectl/status-render.ts';
import type { ModuleRollout } from '../../../core/rollout/module-rollout.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const iso = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();

const deployment: V1Deployment = {
  metadata: { name: 'biz1', namespace: 'ns', generation: 2, annotations: {} },
  spec: {
    replicas: 5,
    selector: { matchLabels: { app: 'biz1' } },
    template: { metadata: { labels: { app: 'biz1' } } },
  },
  status: {
    observedGeneration: 2,
    conditions: [
      {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        lastUpdateTime: new Date(NOW - 60_000),
      },
    ],
  },
};

const rs = (revision: number): V1ReplicaSet => ({
  metadata: {
    name: `biz1-r${String(revision)}`,
    uid: `rs-${String(revision)}`,
    annotations: { 'deployment.kubernetes.io/revision': String(revision) },
  },
  spec: { selector: {} },
});

/** A module pod of `revision`, on `node`, admitted `admittedSecondsAgo` ago (or held), Ready or not. */
function pod(
  name: string,
  revision: number,
  state: { admittedSecondsAgo?: number; held?: string; ready?: boolean; node?: string },
): V1Pod {
  const version = revision === 2 ? '0.0.2' : '0.0.1';
  return {
    metadata: {
      name,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'x',
          uid: `rs-${String(revision)}`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName: state.node ?? 'virtual-node-b1',
      containers: [
        {
          name: 'biz1',
          image: `https://repo.example/biz1-${version}.jar`,
          env: [{ name: 'BIZ_VERSION', value: version }],
        },
      ],
    },
    status: {
      conditions: [
        state.held
          ? {
              type: 'koupleless.io/InstallHeld',
              status: 'True',
              reason: state.held,
              message: 'batch 2 waits for a confirmation',
            }
          : {
              type: 'koupleless.io/InstallHeld',
              status: 'False',
              reason: 'Admitted',
              lastTransitionTime: new Date(NOW - (state.admittedSecondsAgo ?? 100) * 1000),
            },
        { type: 'Ready', status: state.ready ? 'True' : 'False', reason: state.ready ? '' : 'Installing' },
      ],
    },
  };
}

const node: V1Node = {
  metadata: {
    name: 'virtual-node-b1',
    labels: { 'base.koupleless.io/name': 'base', 'base.koupleless.io/version': '1.0.0' },
  },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
};

const holding: ModuleRollout = {
  metadata: { name: 'biz1-r2' },
  spec: { deployment: 'biz1', revision: 2, confirmedBatch: 0 },
  status: {
    kind: 'update',
    phase: 'Holding',
    stableRevision: 1,
    plan: [1, 3, 5],
    currentBatch: 1,
    batches: [
      { index: 1, target: 1, startedAt: iso(30), completedAt: iso(20) },
      { index: 2, target: 3 },
      { index: 3, target: 5 },
    ],
    hold: {
      reason: 'AwaitingConfirmation',
      message: 'batch 2 waits for a confirmation',
      batch: 2,
      since: iso(20),
    },
  },
};

function input(over: Partial<StatusInput> = {}): StatusInput {
  return {
    deployment,
    revision: 2,
    rollout: holding,
    replicaSets: [rs(1), rs(2)],
    pods: [
      pod('new-b', 2, { admittedSecondsAgo: 25, ready: true }),
      pod('held-1', 2, { held: 'AwaitingConfirmation' }),
      pod('held-2', 2, { held: 'AwaitingConfirmation', node: 'virtual-node-gone' }),
      pod('old-1', 1, { ready: true }),
    ],
    nodes: [node],
    now: NOW,
    ...over,
  };
}

describe('statusModel', () => {
  it('fills batches with admitted pods in admission order, puts waiting pods under the batch on hold', () => {
    const model = statusModel(input());
    expect(model.batches.map((b) => [b.state, b.size, b.pods.map((p) => p.name)])).toEqual([
      ['completed', 1, ['new-b']],
      ['holding', 2, ['held-1', 'held-2']],
      ['pending', 2, []],
    ]);
    expect(model.others.map((p) => p.name)).toEqual(['old-1']);
    expect(model.others[0]?.modules).toEqual(['biz1:0.0.1']);
    expect(model.batches[1]?.pods[0]?.state).toBe('Held: AwaitingConfirmation');
  });

  it('says what a human can do next: the confirmation awaited, and the abort', () => {
    expect(statusModel(input()).next).toEqual([
      'kubectl koupleless confirm biz1 --batch 2',
      'kubectl koupleless abort biz1   (back to revision 1)',
    ]);
  });

  it('offers resume for a paused Deployment, and nothing once the rollout ended', () => {
    const paused = { ...deployment, spec: { ...deployment.spec, paused: true } } as V1Deployment;
    expect(statusModel(input({ deployment: paused })).next).toContain('kubectl koupleless resume biz1');
    const done: ModuleRollout = { ...holding, status: { ...holding.status, phase: 'Completed', hold: null } };
    const model = statusModel(input({ rollout: done }));
    expect(model.next).toEqual([]);
    expect(model.done).toBe(true);
    expect(model.progressDeadlineLeftMs).toBeUndefined();
  });

  it("counts the progress deadline from the Deployment's last progress", () => {
    expect(statusModel(input()).progressDeadlineLeftMs).toBe(540_000);
  });

  it('lists every pod with the others while there is no rollout object yet', () => {
    const model = statusModel(input({ rollout: undefined }));
    expect(model.batches).toEqual([]);
    expect(model.others).toHaveLength(4);
  });
});

describe('renderStatus', () => {
  it('draws the tree with ages, the hold, the bases and the next step; a held pod does not repeat the hold', () => {
    const text = renderStatus(statusModel(input()), NOW);
    expect(text).toContain('Deployment ns/biz1: 5 replicas, revision 2');
    expect(text).toContain(
      'ModuleRollout biz1-r2: Holding (update from revision 1), batch 1/3, plan 1, 3, 5',
    );
    expect(text).toContain('  Hold: AwaitingConfirmation before batch 2, since 20s ago\n');
    expect(text).toContain('  Progress deadline: 9m00s left');
    expect(text).toContain('├─ ✔ batch 1: 1 pod (up to 1), completed 20s ago');
    expect(text).toContain('│  └─ new-b biz1:0.0.2 Ready on virtual-node-b1 (base base 1.0.0)');
    expect(text).toContain('├─ ⏸ batch 2: 2 pods (up to 3), holding');
    expect(text).toContain('held-2 biz1:0.0.2 Held: AwaitingConfirmation on virtual-node-gone (node gone)');
    expect(text.split('batch 2 waits for a confirmation')).toHaveLength(2);
    expect(text).toContain('└─ other revisions (1): 1 pod');
    expect(text).toMatch(/Next:\n {2}kubectl koupleless confirm biz1 --batch 2\n/);
  });

  it('says when no ModuleRollout exists for the revision: kmc is not running (or does not serve it)', () => {
    const text = renderStatus(statusModel(input({ rollout: undefined })), NOW);
    expect(text).toContain(
      'ModuleRollout: none for revision 2 (is kmc running? its rollout engine creates one per revision)',
    );
    const unobserved = renderStatus(statusModel(input({ rollout: undefined, revision: undefined })), NOW);
    expect(unobserved).toContain('the Deployment controller has not observed the latest spec');
  });

  it('formats durations as kubectl does', () => {
    expect([formatDuration(4_400), formatDuration(65_000), formatDuration(7_260_000)]).toEqual([
      '4s',
      '1m05s',
      '2h1m',
    ]);
  });
});
