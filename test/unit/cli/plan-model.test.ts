import type { V1Deployment, V1Node, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema, type UserConfig } from '../../../config/config-schema.ts';
import { planConfig, type PlanConfig } from '../../../core/cli/kubectl/plan-config.ts';
import { appliedDeployment, sameTemplate } from '../../../core/cli/kubectl/applied-deployment.ts';
import { spreadOf, toleratesTaints } from '../../../core/cli/kubectl/plan-bases.ts';
import { planModel } from '../../../core/cli/kubectl/plan-model.ts';
import type { PlanInput, PlanModel } from '../../../core/cli/kubectl/plan-types.ts';
import { renderPlan } from '../../../core/cli/kubectl/plan-render.ts';
import type { KmcPlugin } from '../../../core/plugin.ts';
import { deadlineRisk } from '../../../core/rollout/deadline-risk.ts';
import type { ModuleRollout } from '../../../core/rollout/module-rollout.ts';
import {
  BatchesPlugin,
  BetaFirstPlugin,
  GrayTimePlugin,
  MaxUnavailablePlugin,
  PauseAndConfirmPlugin,
  PeerReplicaSyncerPlugin,
} from '../../../plugins/index.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const CONFIG_FILE = '/etc/kmc/koupleless.config.yaml';

/** The corrected example Deployment (examples/manifests/module-deployment.yaml), at `version`. */
function example(version = '0.0.1', change?: (d: V1Deployment) => void): V1Deployment {
  const text = readFileSync(
    new URL('../../../examples/manifests/module-deployment.yaml', import.meta.url),
    'utf8',
  );
  const deployment = parse(text) as V1Deployment;
  deployment.metadata = { ...deployment.metadata, namespace: 'ns', uid: 'd-uid' };
  const spec = deployment.spec;
  if (!spec) throw new Error('no spec');
  const container = spec.template.spec?.containers[0];
  if (container) {
    container.image = `https://repo.example/biz1-${version}-ark-biz.jar`;
    container.env = [{ name: 'BIZ_VERSION', value: version }];
  }
  (spec.template.metadata ??= {}).labels = {
    ...spec.template.metadata.labels,
    'module.koupleless.io/version': version,
  };
  change?.(deployment);
  return deployment;
}

function withReplicas(replicas: number) {
  return (d: V1Deployment) => {
    if (d.spec) d.spec.replicas = replicas;
  };
}

function annotated(annotations: Record<string, string>) {
  return (d: V1Deployment) => {
    d.metadata = { ...d.metadata, annotations: { ...d.metadata?.annotations, ...annotations } };
  };
}

function rolling(maxSurge: number | string, maxUnavailable: number | string) {
  return (d: V1Deployment) => {
    if (d.spec) d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } };
  };
}

function both(...changes: ((d: V1Deployment) => void)[]) {
  return (d: V1Deployment) => {
    for (const change of changes) change(d);
  };
}

/** Required anti-affinity on hostname that selects every revision's pods (no matchLabelKeys). */
function onePerBase(d: V1Deployment): void {
  const anti = d.spec?.template.spec?.affinity?.podAntiAffinity;
  if (anti)
    anti.requiredDuringSchedulingIgnoredDuringExecution = [
      {
        labelSelector: { matchLabels: { 'module.koupleless.io/name': 'biz1' } },
        topologyKey: 'kubernetes.io/hostname',
      },
    ];
}

function rs(
  revision: number,
  from: V1Deployment,
  replicas: number,
  extra: Record<string, string> = {},
): V1ReplicaSet {
  const template = structuredClone(from.spec?.template ?? {});
  (template.metadata ??= {}).labels = {
    ...template.metadata.labels,
    'pod-template-hash': `h${String(revision)}`,
  };
  return {
    metadata: {
      name: `biz1-h${String(revision)}`,
      uid: `rs-${String(revision)}`,
      annotations: { 'deployment.kubernetes.io/revision': String(revision), ...extra },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'biz1', uid: 'd-uid', controller: true },
      ],
    },
    spec: { replicas, selector: {}, template },
    status: { replicas },
  };
}

function vnode(
  name: string,
  options: { ready?: boolean; baseName?: string; mode?: string; taint?: boolean; cordoned?: boolean } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: {
        'base.koupleless.io/name': options.baseName ?? 'base',
        'base.koupleless.io/version': '1.0.0',
        'base.koupleless.io/stack': 'java',
        'kubernetes.io/hostname': name,
        type: 'virtual-kubelet',
      },
      annotations: options.mode ? { 'kmc.koupleless.io/activation-mode': options.mode } : {},
    },
    spec: {
      ...(options.cordoned ? { unschedulable: true } : {}),
      taints:
        options.taint === false
          ? []
          : [{ key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' }],
    },
    status: { conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

const nodes = (n: number, options: Parameters<typeof vnode>[1] = {}) =>
  Array.from({ length: n }, (_, i) => vnode(`virtual-node-b${String(i + 1)}`, options));

function pod(name: string, revision: number, node: string): V1Pod {
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
    spec: { nodeName: node, containers: [] },
  };
}

/** One pod of revision 1 on each of the first `n` nodes. */
const podsOn = (n: number, revision = 1) =>
  Array.from({ length: n }, (_, i) => pod(`p${String(i + 1)}`, revision, `virtual-node-b${String(i + 1)}`));

/** A plan config as `--config <file>` gives it (`file` null: none found). */
function config(plugins: readonly KmcPlugin[], user: UserConfig = {}, file: string | null = CONFIG_FILE) {
  return planConfig(configSchema.parse(user), plugins, file ?? undefined);
}

const completed = (revision: number): ModuleRollout => ({
  metadata: { name: `biz1-r${String(revision)}` },
  spec: { deployment: 'biz1', revision },
  status: { phase: 'Completed', plan: [3] },
});

/** An update of biz1 from 0.0.1 (revision 1, Completed) to 0.0.2 given as a manifest; `change` edits 0.0.2. */
function update(
  over: { replicas?: number; change?: (d: V1Deployment) => void; config?: PlanConfig } & Omit<
    Partial<PlanInput>,
    'config'
  > = {},
): PlanModel {
  const { replicas = 5, change, config: planned, ...input } = over;
  const current = example('0.0.1', withReplicas(replicas));
  const next = example('0.0.2', (d) => {
    withReplicas(replicas)(d);
    change?.(d);
  });
  return planModel({
    namespace: 'ns',
    name: 'biz1',
    current,
    next,
    subject: 'manifest',
    defaulted: true,
    replicaSets: [rs(1, current, replicas)],
    rollouts: [completed(1)],
    pods: podsOn(Math.min(replicas, 5)),
    nodes: nodes(5),
    config: planned ?? config([]),
    now: NOW,
    ...input,
  });
}

const codes = (model: PlanModel) => model.warnings.map((w) => w.code);
const holds = (model: PlanModel) =>
  model.batches.map((b) => b.holds.map((h) => `${h.reason}${h.certain ? '' : '?'}`));

describe('planModel: batches with the controller planner', () => {
  const released = () =>
    config([
      new BatchesPlugin({ batchCount: 3 }),
      new BetaFirstPlugin({}),
      new PauseAndConfirmPlugin({ after: 'each-batch' }),
      new GrayTimePlugin({ seconds: 30 }),
    ]);

  it('plans an update with the config plugins: beta first, gray time then a confirmation before each later batch', () => {
    const model = update({ replicas: 10, config: released() });
    expect(model).toMatchObject({
      kind: 'update',
      unbatched: false,
      stableRevision: 1,
      targetRevision: 2,
      rollout: 'biz1-r2',
      replicas: 10,
      plan: [1, 6, 10],
      config: { file: CONFIG_FILE, plugins: ['batches', 'beta-first', 'pause-and-confirm', 'gray-time'] },
    });
    expect(model.config.implicit).toEqual(['max-unavailable']);
    expect(model.batches.map((b) => [b.size, b.target])).toEqual([
      [1, 1],
      [5, 6],
      [4, 10],
    ]);
    expect(holds(model)).toEqual([
      [],
      ['GrayTime', 'AwaitingConfirmation'],
      ['GrayTime', 'AwaitingConfirmation'],
    ]);
    expect(model.batches[1]?.holds[0]?.detail).toBe('30 s after batch 1 completes');
    expect(model.batches[2]?.holds[1]?.detail).toContain('kubectl koupleless confirm biz1 --batch 3');
    expect(model.sources).toMatchObject({ batchCount: 'config', beta: 'config', graySeconds: 'config' });
    // The same text the engine puts in its ProgressDeadlineRisk Event.
    expect(model.warnings).toContainEqual({
      code: 'ProgressDeadlineRisk',
      message: deadlineRisk(model.strategy, 3, 600, 'biz1-r2'),
    });
  });

  it('annotations win over the config (precedence), and a bad one is reported and ignored', () => {
    const model = update({
      replicas: 10,
      config: released(),
      change: annotated({
        'rollout.koupleless.io/batch-sizes': '1,50%,100%',
        'rollout.koupleless.io/need-confirm': 'false',
        'rollout.koupleless.io/gray-seconds': 'soon',
      }),
    });
    expect(model.plan).toEqual([1, 5, 10]);
    expect(model.sources).toMatchObject({
      batchSizes: 'annotation',
      needConfirm: 'annotation',
      graySeconds: 'config',
    });
    expect(holds(model)).toEqual([[], ['GrayTime'], ['GrayTime']]);
    expect(codes(model)).toContain('BadAnnotation');
    // A field no listed plugin sets is a default (the implicit plugins only fill in theirs).
    expect(update({ config: config([new BatchesPlugin({ batchCount: 2 })]) }).sources).toMatchObject({
      batchCount: 'config',
      graySeconds: 'default',
      needConfirm: 'default',
      undo: 'config',
    });
    expect(model.warnings.find((w) => w.code === 'BadAnnotation')?.message).toContain('gray-seconds: "soon"');
  });

  it('sizes with percentages round up; beta-first puts a one-pod batch before explicit sizes (the planBatches waterfall)', () => {
    expect(
      update({ replicas: 3, config: config([new BatchesPlugin({ sizes: ['30%', '100%'] })]) }).plan,
    ).toEqual([1, 3]);
    expect(
      update({
        replicas: 4,
        config: config([new BatchesPlugin({ sizes: ['50%'] }), new BetaFirstPlugin({})]),
      }).plan,
    ).toEqual([1, 2, 4]);
    // Without any batching plugin an annotation switches batching on (the implicit plugins).
    expect(
      update({ replicas: 5, change: annotated({ 'rollout.koupleless.io/batch-count': '2' }) }).plan,
    ).toEqual([3, 5]);
  });

  it('0 replicas: nothing to roll; 1 replica: one batch, no hold, no deadline risk', () => {
    const none = update({ replicas: 0, pods: [], config: released() });
    expect(none.plan).toEqual([]);
    expect(none.batches).toEqual([]);
    expect(none.notes).toContain('0 replicas: nothing to roll out');
    const one = update({ replicas: 1, config: released() });
    expect(one.plan).toEqual([1]);
    expect(holds(one)).toEqual([[]]);
    expect(codes(one)).not.toContain('ProgressDeadlineRisk');
  });

  it('gray time alone warns only when it adds up to the progress deadline', () => {
    const gray = (seconds: number, deadline?: number) =>
      update({
        replicas: 3,
        config: config([new BatchesPlugin({ batchCount: 3 }), new GrayTimePlugin({ seconds })]),
        change: (d) => {
          if (deadline !== undefined && d.spec) d.spec.progressDeadlineSeconds = deadline;
        },
      });
    expect(codes(gray(300))).toContain('ProgressDeadlineRisk');
    expect(codes(gray(200))).not.toContain('ProgressDeadlineRisk');
    expect(codes(gray(300, 1200))).not.toContain('ProgressDeadlineRisk');
    expect(gray(300, 1200).progressDeadlineSeconds).toBe(1200);
  });

  it('a custom holdBatch tap is named: batches may wait for it too', () => {
    const custom: KmcPlugin = {
      name: 'release-window',
      apply: (orchestrator) => {
        orchestrator.hooks.holdBatch.tapPromise('release-window', () => Promise.resolve(undefined));
      },
    };
    const model = update({ config: config([new BatchesPlugin({ batchCount: 2 }), custom]) });
    expect(model.notes.some((n) => n.startsWith('release-window also taps holdBatch'))).toBe(true);
  });
});

describe('planModel: kinds of rollout', () => {
  it('Recreate is never batched: one batch of every pod, no holds', () => {
    const model = update({
      config: config([
        new BatchesPlugin({ batchCount: 3 }),
        new PauseAndConfirmPlugin({ after: 'each-batch' }),
      ]),
      change: (d) => {
        if (d.spec) d.spec.strategy = { type: 'Recreate' };
      },
    });
    expect(model).toMatchObject({ kind: 'update', unbatched: true, plan: [5] });
    expect(model.why).toContain('Recreate');
    expect(holds(model)).toEqual([[]]);
    expect(model.budgets.deployment).toMatchObject({
      type: 'Recreate',
      maxSurge: { pods: 0 },
      maxUnavailable: { pods: 5 },
    });
    expect(codes(model)).not.toContain('ProgressDeadlineRisk');
  });

  it('a first install goes straight through unless rollout.batchFirstInstall', () => {
    const first = (user: UserConfig) =>
      update({
        current: undefined,
        replicaSets: [],
        rollouts: [],
        pods: [],
        config: config([new BatchesPlugin({ batchCount: 2 })], user),
      });
    expect(first({})).toMatchObject({ kind: 'first-install', unbatched: true, plan: [5], targetRevision: 1 });
    expect(first({ rollout: { batchFirstInstall: true } })).toMatchObject({ unbatched: false, plan: [3, 5] });
  });

  it("a manifest with an older revision's template is an undo: fast (unbatched) by default, batched on request", () => {
    const old = example('0.0.1', withReplicas(5));
    const running = example('0.0.2', withReplicas(5));
    const undo = (annotations: Record<string, string>) =>
      planModel({
        namespace: 'ns',
        name: 'biz1',
        current: running,
        next: example('0.0.1', (d) => {
          withReplicas(5)(d);
          annotated(annotations)(d);
        }),
        subject: 'manifest',
        defaulted: true,
        replicaSets: [rs(1, old, 0), rs(2, running, 5)],
        rollouts: [completed(1), completed(2)],
        pods: podsOn(5, 2),
        nodes: nodes(5),
        config: config([new BatchesPlugin({ batchCount: 2 })]),
        now: NOW,
      });
    expect(undo({})).toMatchObject({
      kind: 'undo',
      unbatched: true,
      stableRevision: 2,
      targetRevision: 3,
      plan: [5],
    });
    expect(undo({}).why).toContain("revision 1's");
    expect(undo({ 'rollout.koupleless.io/undo': 'batched' })).toMatchObject({
      unbatched: false,
      plan: [3, 5],
    });
  });

  it('the same template again is no rollout', () => {
    const current = example('0.0.1', withReplicas(5));
    const model = update({
      change: (d) => Object.assign(d, structuredClone(current)),
      replicaSets: [rs(1, current, 5)],
    });
    expect(model).toMatchObject({ kind: 'none', plan: [], batches: [], targetRevision: 1 });
    expect(model.why).toContain('applying starts no rollout');
  });

  it('without -f it plans the current spec as the next update', () => {
    const current = example('0.0.1', withReplicas(5));
    const model = update({ subject: 'deployment', next: current });
    expect(model).toMatchObject({ kind: 'update', subject: 'deployment', targetRevision: 2 });
  });

  it('a Deployment outside the config watch scope rolls natively', () => {
    const model = update({
      config: config([new BatchesPlugin({ batchCount: 2 })], {
        watch: { deploymentSelector: 'tier=modules' },
      }),
    });
    expect(model).toMatchObject({ unbatched: true, plan: [5] });
    expect(codes(model)).toContain('NotManaged');
  });

  it('warns when a rollout is still running: applying supersedes it', () => {
    const holding: ModuleRollout = {
      metadata: { name: 'biz1-r1' },
      spec: { deployment: 'biz1', revision: 1 },
      status: { phase: 'Holding', currentBatch: 1, plan: [1, 5] },
    };
    const model = update({ rollouts: [holding] });
    expect(model.warnings.find((w) => w.code === 'RolloutInProgress')?.message).toContain(
      'biz1-r1 is still running (Holding, batch 1/2): applying supersedes it',
    );
  });
});

describe('planModel: budgets', () => {
  it("rounds as Kubernetes: the example's 30 % of 3 is a surge of 1 and 0 unavailable", () => {
    expect(update({ replicas: 3 }).budgets).toEqual({
      deployment: {
        type: 'RollingUpdate',
        maxSurge: { value: '30%', pods: 1 },
        maxUnavailable: { value: '30%', pods: 0 },
      },
      plugin: undefined,
      effective: undefined,
    });
  });

  it("the effective budget is the smaller of the plugin's and the Deployment's own", () => {
    const model = update({
      replicas: 5,
      config: config([new MaxUnavailablePlugin({ maxUnavailable: '40%' })]),
    });
    expect(model.budgets.plugin).toEqual({ value: '40%', pods: 2 });
    expect(model.budgets.deployment.maxUnavailable.pods).toBe(1);
    expect(model.budgets.effective).toBe(1);
    // A conditional hold before every batch, first in the controller's order.
    expect(holds(model)).toEqual([['MaxUnavailable?']]);
    // Listed without a value: the Deployment's own (100 % capped by it); both 0 → 1, as Kubernetes.
    const own = update({
      replicas: 2,
      config: config([new MaxUnavailablePlugin({})]),
      change: rolling(0, 0),
    });
    expect(own.budgets).toMatchObject({ plugin: { value: '100%', pods: 2 }, effective: 1 });
  });
});

describe('planModel: bases and warnings', () => {
  it('surge that cannot fit and an anti-affinity that cannot roll (one pod per base, maxSurge 1, maxUnavailable 0)', () => {
    const model = update({
      change: (d) => {
        onePerBase(d);
        rolling(1, 0)(d);
      },
    });
    expect(model.bases.spread).toBe('one-per-base');
    expect(codes(model)).toEqual(expect.arrayContaining(['SurgeCannotFit', 'AntiAffinityCannotRoll']));
    expect(model.warnings.find((w) => w.code === 'SurgeCannotFit')?.message).toContain(
      '1 of 1 surge pod cannot be scheduled',
    );
    // maxUnavailable 1: it rolls, by deleting old pods first.
    const deleting = update({ change: both(onePerBase, rolling(1, 1)) });
    expect(codes(deleting)).toContain('SurgeCannotFit');
    expect(codes(deleting)).not.toContain('AntiAffinityCannotRoll');
    // A free base: the surge pod fits.
    expect(codes(update({ nodes: nodes(6), change: both(onePerBase, rolling(1, 0)) }))).toEqual([]);
    // The corrected example (matchLabelKeys pod-template-hash): the new pod lands beside the old one.
    const corrected = update({ change: rolling(1, 0) });
    expect(corrected.bases.spread).toBe('one-per-base-per-revision');
    expect(codes(corrected)).toEqual([]);
  });

  it('too few matching bases for one pod per base, and no matching base at all', () => {
    const few = update({
      replicas: 5,
      nodes: [...nodes(3), vnode('virtual-node-other', { baseName: 'other' })],
    });
    expect(few.bases.matching).toHaveLength(3);
    expect(few.warnings.find((w) => w.code === 'PodsCannotFit')?.message).toContain(
      '2 of 5 pods of the new revision',
    );
    const none = update({ nodes: nodes(3, { baseName: 'other' }) });
    expect(codes(none)).toContain('NoMatchingBase');
  });

  it('warns when no matching base has the label a DoNotSchedule spread constraint spreads over', () => {
    const spreadOn =
      (topologyKey: string, whenUnsatisfiable = 'DoNotSchedule') =>
      (d: V1Deployment) => {
        if (d.spec?.template.spec)
          d.spec.template.spec.topologySpreadConstraints = [
            { maxSkew: 1, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: { app: 'biz1' } } },
          ];
      };
    const missing = update({ change: spreadOn('example.com/rack') });
    expect(missing.warnings.find((w) => w.code === 'SpreadKeyMissing')?.message).toContain(
      'no matching base has the label example.com/rack',
    );
    // ScheduleAnyway never refuses a base, and the hostname label every VNode has.
    expect(codes(update({ change: spreadOn('example.com/rack', 'ScheduleAnyway') }))).toEqual([]);
    expect(codes(update({ change: spreadOn('kubernetes.io/hostname') }))).toEqual([]);
    // Some bases labelled: a note names the others.
    const labelled = nodes(5).map((n, i) =>
      i < 3
        ? { ...n, metadata: { ...n.metadata, labels: { ...n.metadata?.labels, 'example.com/rack': 'r1' } } }
        : n,
    );
    const partial = update({ nodes: labelled, change: spreadOn('example.com/rack') });
    expect(codes(partial)).toEqual([]);
    expect(partial.notes.join('\n')).toContain(
      '2 of 5 matching bases lack the label example.com/rack of a DoNotSchedule topology spread constraint',
    );
  });

  it('counts only Ready, schedulable bases whose taints the template tolerates', () => {
    const model = update({
      nodes: [
        ...nodes(2),
        vnode('virtual-node-down', { ready: false }),
        vnode('virtual-node-cordoned', { cordoned: true }),
      ],
    });
    expect(model.bases.matching).toEqual(['virtual-node-b1', 'virtual-node-b2']);
    const spec = example().spec?.template.spec;
    expect(toleratesTaints(spec, vnode('x'))).toBe(true);
    expect(toleratesTaints({ ...spec, containers: [], tolerations: [] }, vnode('x'))).toBe(false);
  });

  it('names the bases that will update uninstall-first (the mode kmc recorded on the Node)', () => {
    const model = update({
      nodes: [
        vnode('virtual-node-b1', { mode: 'installs-deactivated' }),
        vnode('virtual-node-b2', { mode: 'switches' }),
        vnode('virtual-node-b3', { mode: 'installs-deactivated' }),
        vnode('virtual-node-b4'),
        vnode('virtual-node-b5', { mode: 'keeps-both' }),
      ],
    });
    expect(model.bases.uninstallFirst).toEqual(['virtual-node-b1', 'virtual-node-b3']);
    expect(model.bases.modeUnknown).toEqual(['virtual-node-b4']);
    const warning = model.warnings.find((w) => w.code === 'UninstallFirst')?.message;
    expect(warning).toContain('2 bases will update uninstall-first');
    expect(warning).toContain('no max-unavailable budget bounds how many are down at once');
    expect(warning).toContain('virtual-node-b1, virtual-node-b3');
    expect(model.notes.some((n) => n.startsWith('1 base has not shown their activation mode'))).toBe(true);
    // With a budget of 0 the install gate never lets such a base go down: said plainly.
    const zero = update({
      nodes: [vnode('virtual-node-b1', { mode: 'installs-deactivated' }), ...nodes(5).slice(1)],
      config: config([new MaxUnavailablePlugin({ maxUnavailable: 0 })]),
    });
    expect(zero.warnings.find((w) => w.code === 'UninstallFirst')?.message).toContain(
      'the install gate holds their new pods (MaxUnavailable) until the budget allows a replica down: the rollout cannot complete',
    );
    // A first install replaces nothing.
    expect(
      codes(
        update({
          current: undefined,
          replicaSets: [],
          rollouts: [],
          pods: [],
          nodes: [vnode('virtual-node-b1', { mode: 'installs-deactivated' })],
        }),
      ),
    ).not.toContain('UninstallFirst');
  });

  it('a peer Deployment has one replica per matching base and its bases are the batch sets', () => {
    const peer = (d: V1Deployment) => {
      d.metadata = {
        ...d.metadata,
        labels: { ...d.metadata?.labels, 'module-controller.koupleless.io/strategy': 'peer' },
      };
    };
    const model = update({
      replicas: 1,
      nodes: [...nodes(4), vnode('virtual-node-other', { baseName: 'other' })],
      change: peer,
      config: config([
        new BatchesPlugin({ batchCount: 2 }),
        new PeerReplicaSyncerPlugin({ resyncSeconds: 30 }),
      ]),
    });
    expect(model).toMatchObject({ replicas: 4, replicasFrom: 'peer', plan: [2, 4] });
    expect(model.bases.sets).toBe('peer');
    expect(model.batches.map((b) => b.bases)).toEqual([
      undefined,
      ['virtual-node-b1', 'virtual-node-b2', 'virtual-node-b3', 'virtual-node-b4'],
    ]);
    const unsynced = update({ change: peer });
    expect(unsynced).toMatchObject({ replicasFrom: 'spec', replicas: 5 });
    expect(unsynced.bases.sets).toBe('pod-counts');
    expect(codes(unsynced)).toContain('PeerWithoutSyncer');
  });
});

describe('plan helpers', () => {
  it('spreadOf reads the anti-affinity terms that select the Deployment’s own pods', () => {
    const current = example('0.0.1');
    expect(spreadOf(example('0.0.2').spec?.template.spec, example('0.0.2'), current)).toBe(
      'one-per-base-per-revision',
    );
    const strict = example('0.0.2', onePerBase);
    expect(spreadOf(strict.spec?.template.spec, strict, current)).toBe('one-per-base');
    const zone = example('0.0.2', (d) => {
      const term =
        d.spec?.template.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
      if (term) term.topologyKey = 'topology.kubernetes.io/zone';
    });
    expect(spreadOf(zone.spec?.template.spec, zone, current)).toBe('any');
  });

  it('sameTemplate ignores the ReplicaSet hash label; without defaults it compares modules', () => {
    const a = example('0.0.1');
    const set = rs(1, a, 1);
    expect(sameTemplate(a.spec?.template ?? {}, set.spec?.template ?? {}, true)).toBe(true);
    expect(sameTemplate(example('0.0.2').spec?.template ?? {}, set.spec?.template ?? {}, true)).toBe(false);
    const relabelled = example('0.0.1', (d) => {
      (d.spec?.template.metadata?.labels ?? {})['extra'] = 'x';
    });
    expect(sameTemplate(relabelled.spec?.template ?? {}, set.spec?.template ?? {}, true)).toBe(false);
    expect(sameTemplate(relabelled.spec?.template ?? {}, set.spec?.template ?? {}, false)).toBe(true);
  });

  it('appliedDeployment merges annotations and replicas as kubectl apply does', () => {
    const current = example('0.0.1', (d) => {
      withReplicas(7)(d);
      annotated({
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          metadata: {
            annotations: { 'rollout.koupleless.io/beta': 'true', 'rollout.koupleless.io/gray-seconds': '5' },
          },
        }),
        'rollout.koupleless.io/beta': 'true',
        'rollout.koupleless.io/gray-seconds': '5',
        'rollout.koupleless.io/need-confirm': 'beta',
      })(d);
    });
    const manifest = example('0.0.2', (d) => {
      delete d.spec?.replicas;
      annotated({ 'rollout.koupleless.io/gray-seconds': '9' })(d);
    });
    const applied = appliedDeployment(current, manifest);
    // beta was applied before and dropped: gone; need-confirm came from kubectl annotate: kept.
    expect(applied.metadata?.annotations).toEqual({
      'rollout.koupleless.io/need-confirm': 'beta',
      'rollout.koupleless.io/gray-seconds': '9',
    });
    // replicas never applied (set by a scale): kept.
    expect(applied.spec?.replicas).toBe(7);
  });
});

describe('renderPlan', () => {
  it('prints the kind, batches with their holds, budgets, bases and warnings', () => {
    const model = update({
      replicas: 5,
      config: config([
        new BatchesPlugin({ batchCount: 3 }),
        new BetaFirstPlugin({}),
        new PauseAndConfirmPlugin({ after: 'each-batch' }),
        new MaxUnavailablePlugin({ maxUnavailable: '40%' }),
      ]),
      change: annotated({ 'rollout.koupleless.io/gray-seconds': '2' }),
    });
    const text = renderPlan(model);
    expect(text).toContain('Plan for deployment ns/biz1: the manifest as revision 2 (ModuleRollout biz1-r2)');
    expect(text).toContain(
      `Config: ${CONFIG_FILE}; plugins: batches, beta-first, pause-and-confirm, max-unavailable; off unless annotated: gray-time`,
    );
    expect(text).toContain('Rollout: update from revision 1, 5 replicas, batched');
    expect(text).toContain(
      'Strategy: batchCount 3 (config), beta on (config), confirm each-batch (config), gray 2 s (annotation), maxUnavailable 40% (config)',
    );
    expect(text).toContain('Batches: 1, 3, 5 (cumulative');
    expect(text).toContain(
      '  batch 2: 2 pods → 3 of 5\n    may hold MaxUnavailable: only while more than 1 of 5 replicas are unavailable\n    holds GrayTime: 2 s after batch 1 completes\n    holds AwaitingConfirmation: until kubectl koupleless confirm biz1 --batch 2',
    );
    expect(text).toContain('Batches are pod counts, not base sets');
    expect(text).toContain(
      "Budgets: the Deployment's maxSurge 30% → 2 pods, maxUnavailable 30% → 1 pod; max-unavailable 40% → 2; effective budget 1",
    );
    expect(text).toContain(
      'Bases: 5 Ready bases match the new template; at most one pod per base per revision',
    );
    expect(text).toContain('Warnings:\n  ProgressDeadlineRisk: this rollout holds for 2 confirmations');
    // JSON output is the model itself.
    expect(JSON.parse(JSON.stringify(model))).toMatchObject({ plan: [1, 3, 5] });
  });

  it('says when no config file was found, and when there is no rollout', () => {
    const current = example('0.0.1', withReplicas(5));
    const model = update({
      config: config([], {}, null),
      change: (d) => Object.assign(d, structuredClone(current)),
      replicaSets: [rs(1, current, 5)],
    });
    const text = renderPlan(model);
    expect(text).toContain('Config: none found (defaults: no strategy plugin listed)');
    expect(text).toContain('the manifest as revision 1 (unchanged)');
    expect(text).toContain(
      'Rollout: no rollout, 5 replicas, unbatched: the template is the one revision 1 runs',
    );
    expect(text).not.toContain('Batches:');
  });
});
