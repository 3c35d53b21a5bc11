import { CoreV1Api, CustomObjectsApi, type KubernetesListObject } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { resolvePlugins } from '../../config/resolve-plugins.ts';
import type { PlanModel } from '../../core/cli/kubectl/plan-types.ts';
import { runCommand, type CommandResult } from '../../core/cluster/run-command.ts';
import {
  ROLLOUT_GROUP,
  ROLLOUT_PLURAL,
  ROLLOUT_VERSION,
  type ModuleRollout,
} from '../../core/rollout/module-rollout.ts';
import { renameModule, setModuleVersion, toYaml, type ModuleWorkload } from '../support/manifests.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';
import { recordWatch, type WatchRecorder } from '../support/watch-recorder.ts';

const ENTRY = fileURLToPath(new URL('../../core/cli/kubectl/kubectl-koupleless.ts', import.meta.url));

/**
 * `kubectl koupleless plan` against what the controller then does: the plan is made before each apply, through
 * the real kubectl and the installed shim (a PATH without the project's node_modules/.bin or its Node), with a
 * config file listing the plugins the running kmc was built from; the ModuleRollout and the simulated bases'
 * own timelines say what was executed.
 */
const CONFIG = `# The plugins of the kmc under test, as a kmc config file lists them.
plugins:
  - [batches, { batchCount: 3 }]
  - beta-first
  - [pause-and-confirm, { after: each-batch }]
  - [max-unavailable, { maxUnavailable: 40% }]
`;

let dir: string;
let configFile: string;
let world: RolloutWorld;
let ns: string[];
let rollouts: WatchRecorder<ModuleRollout>;

function pluginEnv(): NodeJS.ProcessEnv {
  return {
    HOME: process.env['HOME'] ?? '/root',
    KUBECONFIG: inject('kubeconfig'),
    PATH: [join(dir, 'bin'), dirname(inject('kubectl')), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
  };
}

async function koupleless(args: readonly string[]): Promise<CommandResult> {
  return runCommand(inject('kubectl'), ['koupleless', ...args], {
    env: pluginEnv(),
    allowFailure: true,
    cwd: dir,
  });
}

/** `kubectl koupleless plan <name> -f <manifest> -o json --config <config>`. */
async function plan(manifest: ModuleWorkload, file: string, name = 'biz1'): Promise<PlanModel> {
  const path = join(dir, file);
  await writeFile(path, toYaml(manifest));
  const result = await koupleless(['plan', name, '-f', path, '-o', 'json', '--config', configFile, ...ns]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PlanModel;
}

function version(v: string, change?: (m: ModuleWorkload) => void): ModuleWorkload {
  const manifest = setModuleVersion(structuredClone(world.manifest), 'biz1', v);
  change?.(manifest);
  return manifest;
}

function annotate(annotations: Record<string, string>) {
  return (m: ModuleWorkload) => {
    m.metadata.annotations = { ...m.metadata.annotations, ...annotations };
  };
}

/** Applies `manifest` as revision `revision` and lets the controller run it, confirming each batch it waits for. */
async function execute(manifest: ModuleWorkload, revision: number): Promise<ModuleRollout> {
  await world.applyManifest(manifest);
  return waitFor(
    async () => {
      const rollout = await world.rollout(revision);
      const hold = rollout?.status?.hold;
      if (hold?.reason === 'AwaitingConfirmation' && (rollout?.spec.confirmedBatch ?? 0) < hold.batch)
        await world.confirm(revision, hold.batch);
      if (rollout?.status?.phase === 'Completed') return rollout;
      throw new Error(`status: ${JSON.stringify(rollout?.status ?? null)}`);
    },
    { description: `biz1-r${String(revision)} Completed`, timeoutMs: 120_000, intervalMs: 200 },
  );
}

/** The hold reasons the ModuleRollout showed before each batch, in the order it showed them. */
function holdsShown(revision: number, batches: number): string[][] {
  const shown: string[][] = Array.from({ length: batches }, () => []);
  for (const version of rollouts.versions) {
    if (version.metadata?.name !== `biz1-r${String(revision)}`) continue;
    const hold = version.status?.hold;
    const list = hold ? shown[hold.batch - 1] : undefined;
    if (hold && list && list.at(-1) !== hold.reason) list.push(hold.reason);
  }
  return shown;
}

/**
 * What the controller executed matches the plan: the same cumulative targets in status.plan and per batch, on the
 * bases' own timelines exactly `target` bases run the new version when a batch completes (and still just before
 * the next one starts), and the holds shown per batch are the planned ones (a conditional one may show or not).
 */
function expectExecuted(planned: PlanModel, done: ModuleRollout, v: string): void {
  expect(done.status?.plan).toEqual(planned.plan);
  const batches = done.status?.batches ?? [];
  expect(batches.map((b) => b.target)).toEqual(planned.batches.map((b) => b.target));
  batches.forEach((batch, i) => {
    const completed = Date.parse(batch.completedAt ?? '');
    expect(world.switched(v, completed), `bases on ${v} when batch ${String(i + 1)} completed`).toBe(
      batch.target,
    );
    const next = batches[i + 1]?.startedAt;
    if (next)
      expect(world.switched(v, Date.parse(next) - 1), `bases on ${v} before batch ${String(i + 2)}`).toBe(
        batch.target,
      );
  });
  const shown = holdsShown(done.spec.revision, planned.batches.length);
  const certain = planned.batches.map((b) => b.holds.filter((h) => h.certain).map((h) => h.reason));
  const possible = planned.batches.map((b) => b.holds.map((h) => h.reason));
  expect(
    shown.map((reasons, i) => reasons.filter((r) => certain[i]?.includes(r))),
    'certain holds shown per batch',
  ).toEqual(certain);
  shown.forEach((reasons, i) => {
    for (const reason of reasons)
      expect(possible[i], `batch ${String(i + 1)} showed ${reason}`).toContain(reason);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmc-plan-'));
  // What `npm run kubectl-koupleless -- install --dir <dir>` runs: this project's Node 24.
  await runCommand(process.execPath, [ENTRY, 'install', '--dir', join(dir, 'bin')]);
  configFile = join(dir, 'koupleless.config.yaml');
  await writeFile(configFile, CONFIG);
  // The running kmc gets exactly the plugins the file lists.
  const loaded = await loadConfig({ file: configFile });
  world = await RolloutWorld.create({
    bases: 5,
    plugins: await resolvePlugins(loaded.config.plugins, loaded.file),
    // One base installs a new version deactivated: it updates uninstall-first, as kmc finds out on its first update.
    activationMode: [
      'install-deactivated',
      'multi-version',
      'multi-version',
      'multi-version',
      'multi-version',
    ],
    annotations: { 'rollout.koupleless.io/gray-seconds': '2' },
  });
  ns = ['-n', world.namespace];
  const custom = world.harness.kc.makeApiClient(CustomObjectsApi);
  rollouts = await recordWatch<ModuleRollout>(
    world.harness.kc,
    `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/namespaces/${world.namespace}/${ROLLOUT_PLURAL}`,
    async () =>
      (await custom.listNamespacedCustomObject({
        group: ROLLOUT_GROUP,
        version: ROLLOUT_VERSION,
        namespace: world.namespace,
        plural: ROLLOUT_PLURAL,
      })) as KubernetesListObject<ModuleRollout>,
  );
});

afterAll(async () => {
  await rollouts.stop();
  await world.close();
  await rm(dir, { recursive: true, force: true });
});

describe('kubectl koupleless plan: what the controller then executes', () => {
  it('plans batches 1, 3, 5 with gray time and a confirmation before batches 2 and 3; the controller runs exactly that', async () => {
    const next = version('0.0.2');
    const planned = await plan(next, 'biz1-0.0.2.yaml');
    expect(planned).toMatchObject({
      kind: 'update',
      stableRevision: 1,
      targetRevision: 2,
      rollout: 'biz1-r2',
      replicas: 5,
      plan: [1, 3, 5],
      config: {
        file: configFile,
        plugins: ['batches', 'beta-first', 'pause-and-confirm', 'max-unavailable'],
      },
      sources: { batchCount: 'config', beta: 'config', needConfirm: 'config', graySeconds: 'annotation' },
      // 40 % of 5 is 2, the Deployment's own 30 % of 5 is 1: the smaller governs.
      budgets: {
        plugin: { value: '40%', pods: 2 },
        deployment: { maxUnavailable: { pods: 1 } },
        effective: 1,
      },
      bases: { spread: 'one-per-base-per-revision', sets: 'pod-counts' },
    });
    expect(planned.bases.matching).toHaveLength(5);
    expect(planned.batches.map((b) => b.holds.map((h) => `${h.reason}${h.certain ? '' : '?'}`))).toEqual([
      ['MaxUnavailable?'],
      ['MaxUnavailable?', 'GrayTime', 'AwaitingConfirmation'],
      ['MaxUnavailable?', 'GrayTime', 'AwaitingConfirmation'],
    ]);
    expect(planned.warnings.map((w) => w.code)).toEqual(['ProgressDeadlineRisk']);
    // The text form says the same.
    const text = await koupleless([
      'plan',
      'biz1',
      '-f',
      join(dir, 'biz1-0.0.2.yaml'),
      '--config',
      configFile,
      ...ns,
    ]);
    expect(text.stdout).toContain('Batches: 1, 3, 5');
    expect(text.stdout).toContain(
      'holds AwaitingConfirmation: until kubectl koupleless confirm biz1 --batch 2',
    );

    const done = await execute(next, 2);
    expectExecuted(planned, done, '0.0.2');
    // The warning is the Event the controller emitted when the rollout started, word for word.
    const events = await world.harness.kc
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: world.namespace, fieldSelector: 'reason=ProgressDeadlineRisk' });
    expect(events.items.map((e) => e.message)).toContain(planned.warnings[0]?.message);
  });

  it('plans annotation overrides (sizes 40 %, no beta, no confirmation, no gray time) and names the base that updates uninstall-first', async () => {
    const next = version(
      '0.0.3',
      annotate({
        'rollout.koupleless.io/batch-sizes': '40%,100%',
        'rollout.koupleless.io/beta': 'false',
        'rollout.koupleless.io/need-confirm': 'false',
        'rollout.koupleless.io/gray-seconds': '0',
      }),
    );
    const planned = await plan(next, 'biz1-0.0.3.yaml');
    const base = world.bases[0];
    if (!base) throw new Error('no base');
    const uninstallFirst = world.harness.nodeName(base);
    expect(planned).toMatchObject({
      kind: 'update',
      stableRevision: 2,
      plan: [2, 5],
      sources: {
        batchSizes: 'annotation',
        beta: 'annotation',
        needConfirm: 'annotation',
        graySeconds: 'annotation',
      },
      bases: { uninstallFirst: [uninstallFirst], modeUnknown: [] },
    });
    expect(planned.batches.map((b) => b.holds.filter((h) => h.certain))).toEqual([[], []]);
    expect(planned.warnings.map((w) => w.code)).toEqual(['UninstallFirst']);
    expect(planned.warnings[0]?.message).toContain(
      `1 base will update uninstall-first (kmc recorded that it installs a new version deactivated)`,
    );
    expect(planned.warnings[0]?.message).toContain(
      'the unavailability budget (1) bounds how many are down at once',
    );

    const done = await execute(next, 3);
    expectExecuted(planned, done, '0.0.3');
    // It did: the base uninstalled 0.0.2 before 0.0.3 ran there.
    const uninstalled = base.timeline
      .received('uninstallBiz')
      .find(
        (m) =>
          m.payload.includes('"0.0.2"') && m.at >= Date.parse(done.status?.batches?.[0]?.startedAt ?? ''),
      );
    expect(uninstalled).toBeDefined();
  });

  it('warns about holds that can outlast the progress deadline', async () => {
    const planned = await plan(
      version('0.0.4', (m) => {
        m.spec['progressDeadlineSeconds'] = 30;
        annotate({
          'rollout.koupleless.io/need-confirm': 'false',
          'rollout.koupleless.io/gray-seconds': '20',
        })(m);
      }),
      'deadline.yaml',
    );
    expect(planned.plan).toEqual([1, 3, 5]);
    const risk = planned.warnings.find((w) => w.code === 'ProgressDeadlineRisk');
    expect(risk?.message).toContain(
      "this rollout holds for 40 s of gray time, which can outlast the Deployment's progressDeadlineSeconds (30 s)",
    );
    expect(risk?.message).toContain('kubectl wait modulerollout/biz1-r4 --for=condition=Completed');
  });

  it('warns that surge pods cannot fit and the rollout cannot progress, and the cluster agrees', async () => {
    // One pod of biz1 per base whatever its revision, on as many bases as replicas, surge 1 and nothing deleted first.
    const stuck = version('0.0.4', (m) => {
      m.spec['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
      const spec = m.spec.template.spec as { affinity?: { podAntiAffinity?: unknown } };
      spec.affinity = {
        ...spec.affinity,
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { 'module.koupleless.io/name': 'biz1' } },
              topologyKey: 'kubernetes.io/hostname',
            },
          ],
        },
      };
    });
    const planned = await plan(stuck, 'stuck.yaml');
    expect(planned.bases.spread).toBe('one-per-base');
    expect(planned.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['SurgeCannotFit', 'AntiAffinityCannotRoll']),
    );
    expect(planned.warnings.find((w) => w.code === 'SurgeCannotFit')?.message).toContain(
      '1 of 1 surge pod cannot be scheduled',
    );
    // The text output names it too.
    const text = await koupleless([
      'plan',
      'biz1',
      '-f',
      join(dir, 'stuck.yaml'),
      '--config',
      configFile,
      ...ns,
    ]);
    expect(text.stdout).toContain('AntiAffinityCannotRoll: the rollout cannot progress');

    await world.applyManifest(stuck);
    const unschedulable = await waitFor(
      async () =>
        (await world.pods()).find(
          (p) =>
            p.spec?.containers[0]?.env?.some((e) => e.value === '0.0.4') &&
            p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'),
        ),
      { description: 'the surge pod of 0.0.4 Unschedulable', timeoutMs: 60_000 },
    );
    expect(unschedulable.spec?.nodeName).toBeUndefined();
    expect(world.switched('0.0.4')).toBe(0);
    // Without -f: the Deployment's spec (now the stuck one) as the next update, and the rollout that is stuck.
    const again = await koupleless(['plan', 'biz1', '-o', 'yaml', '--config', configFile, ...ns]);
    const current = parse(again.stdout) as PlanModel;
    expect(current).toMatchObject({ subject: 'deployment', kind: 'update', targetRevision: 5 });
    expect(current.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['AntiAffinityCannotRoll', 'RolloutInProgress']),
    );
    expect(current.warnings.find((w) => w.code === 'RolloutInProgress')?.message).toContain(
      'biz1-r4 is running now (Progressing, batch 1/3)',
    );
  });

  it('plans a Deployment that does not exist yet as a first install: one batch, straight through', async () => {
    const planned = await plan(renameModule(world.manifest, 'biz2'), 'biz2.yaml', 'biz2');
    expect(planned).toMatchObject({
      exists: false,
      kind: 'first-install',
      unbatched: true,
      targetRevision: 1,
      plan: [5],
      why: 'a first install goes straight through (rollout.batchFirstInstall: false)',
    });
    expect(planned.batches.map((b) => b.holds)).toEqual([[]]);
  });

  it('explains a missing Deployment and an unreadable config', async () => {
    const missing = await koupleless(['plan', 'nope', '--config', configFile, ...ns]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('deployment "nope" not found');
    const bad = join(dir, 'bad.config.yaml');
    await writeFile(bad, 'plugins:\n  - [batches, { batchCount: 0 }]\n');
    const invalid = await koupleless(['plan', 'biz1', '--config', bad, ...ns]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('batchCount');
    expect(await readFile(configFile, 'utf8')).toBe(CONFIG);
  });
});
