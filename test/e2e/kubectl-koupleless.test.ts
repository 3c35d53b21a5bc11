import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runCommand, type CommandResult } from '../../core/cluster/run-command.ts';
import { BatchesPlugin } from '../../plugins/batches-plugin.ts';
import { BetaFirstPlugin } from '../../plugins/beta-first-plugin.ts';
import { MaxUnavailablePlugin } from '../../plugins/max-unavailable-plugin.ts';
import { PauseAndConfirmPlugin } from '../../plugins/pause-and-confirm-plugin.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { kubectl as adminKubectl } from '../support/kube.ts';
import {
  clusterDaemonSet,
  exampleManifest,
  selectBases,
  toYaml,
  type ModuleWorkload,
} from '../support/manifests.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';

const ENTRY = fileURLToPath(new URL('../../core/cli/kubectl/kubectl-koupleless.ts', import.meta.url));

/**
 * The plugin as users run it: the shim installed into a directory of its own, found by the real kubectl on a PATH
 * that has neither the project's node_modules/.bin nor its Node — only the system's (older) one.
 */
let shimDir: string;
function pluginEnv(): NodeJS.ProcessEnv {
  return {
    HOME: process.env['HOME'] ?? '/root',
    KUBECONFIG: inject('kubeconfig'),
    PATH: [shimDir, dirname(inject('kubectl')), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
  };
}
async function koupleless(args: readonly string[]): Promise<CommandResult> {
  return runCommand(inject('kubectl'), ['koupleless', ...args], { env: pluginEnv(), allowFailure: true });
}

/** A long-running `kubectl koupleless …` whose output can be read while it runs. */
function started(args: readonly string[]) {
  const child = spawn(inject('kubectl'), ['koupleless', ...args], { env: pluginEnv() });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { output: () => stdout, exited };
}

beforeAll(async () => {
  shimDir = await mkdtemp(join(tmpdir(), 'kmc-kubectl-plugin-'));
  // What `npm run kubectl-koupleless -- install --dir <dir>` runs: this project's Node 24.
  const installed = await runCommand(process.execPath, [ENTRY, 'install', '--dir', shimDir]);
  expect(installed.stdout).toContain(`installed ${join(shimDir, 'kubectl-koupleless')}`);
  const shim = await readFile(join(shimDir, 'kubectl-koupleless'), 'utf8');
  expect(shim).toContain(`exec '${process.execPath}' '${ENTRY}'`);
});
afterAll(async () => {
  await rm(shimDir, { recursive: true, force: true });
});

describe('kubectl koupleless on a batched rollout (5 bases: batches 1, 3, 5, 20 s of gray time and a confirmation before each)', () => {
  let world: RolloutWorld;
  let ns: string[];

  beforeAll(async () => {
    world = await RolloutWorld.create({
      bases: 5,
      plugins: [
        new BatchesPlugin({ batchCount: 3 }),
        new BetaFirstPlugin({}),
        new PauseAndConfirmPlugin({ after: 'each-batch' }),
      ],
      // Gray time switched on for this Deployment by its annotation: before each batch, then the confirmation.
      annotations: { 'rollout.koupleless.io/gray-seconds': '20' }, // long enough for two plugin runs on a loaded machine
    });
    ns = ['-n', world.namespace];
  });
  afterAll(async () => {
    await world.close();
  });

  it('explains its errors: an unknown Deployment, a Deployment that is not a module one, a bad --batch', async () => {
    const missing = await koupleless(['status', 'nope', ...ns]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`deployment "nope" not found in namespace "${world.namespace}"`);
    await adminKubectl(['create', 'deployment', 'web', '--image=registry.example/web:1', ...ns]);
    const plain = await koupleless(['status', 'web', ...ns]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('is not a module Deployment');
    const usage = await koupleless(['confirm', 'biz1', '--batch', 'two', ...ns]);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toContain('expected a whole number');
  });

  it('shows a gray-time wait with the time left, then a rollout waiting for a confirmation (tree, hold, next step); pauses, resumes and confirms it', async () => {
    await world.release('0.0.2');
    await world.holding(2, 2, 'GrayTime');
    const gray = await koupleless(['status', 'biz1', ...ns]);
    expect(gray.stdout).toMatch(/Hold: GrayTime before batch 2, since \d+s ago, \d+s left/);
    expect(gray.stdout).toContain('gray time 20 s after batch 1');
    // No confirmation is awaited yet: confirm without --batch says so instead of guessing.
    const early = await koupleless(['confirm', 'biz1', ...ns]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('biz1-r2 awaits no confirmation (Holding, holding: GrayTime)');

    await world.holding(2, 2, 'AwaitingConfirmation');
    const waiting = await koupleless(['status', 'biz1', ...ns]);
    expect(waiting.code).toBe(0);
    const text = waiting.stdout;
    expect(text).toContain(`Deployment ${world.namespace}/biz1: 5 replicas, revision 2`);
    expect(text).toContain(
      'ModuleRollout biz1-r2: Holding (update from revision 1), batch 1/3, plan 1, 3, 5',
    );
    expect(text).toContain('Hold: AwaitingConfirmation before batch 2');
    expect(text).toMatch(/✔ batch 1: 1 pod \(up to 1\), completed \d+s ago/);
    expect(text).toContain('⏸ batch 2: 2 pods (up to 3), holding');
    expect(text).toMatch(/biz1-\S+ biz1:0\.0\.2 Ready on virtual-node-\S+ \(base base-\S+ 1\.0\.0\)/);
    expect(text).toMatch(/biz1-\S+ biz1:0\.0\.2 Held: AwaitingConfirmation on virtual-node-/);
    // The old pods left: the Deployment controller deletes some ahead (their modules are kept on their bases).
    expect(text).toMatch(/other revisions \(1\): \d pods?\n(.*biz1:0\.0\.1 Ready on virtual-node-.*\n)+/);
    expect(text).toContain('Next:\n  kubectl koupleless confirm biz1 --batch 2');
    const json = JSON.parse((await koupleless(['status', 'biz1', '-o', 'json', ...ns])).stdout) as {
      rollout: { phase: string; hold: { reason: string; batch: number } };
      batches: { state: string; pods: unknown[] }[];
    };
    expect(json.rollout).toMatchObject({
      phase: 'Holding',
      hold: { reason: 'AwaitingConfirmation', batch: 2 },
    });
    expect(json.batches.map((b) => b.state)).toEqual(['completed', 'holding', 'pending']);

    // Pause and resume: the Deployment's own spec.paused; status says so and offers the way back.
    const paused = await koupleless(['pause', 'biz1', ...ns]);
    expect(paused.stdout.trim()).toBe(
      `deployment ${world.namespace}/biz1 paused: no further batch starts; the batch in progress finishes`,
    );
    await world.holding(2, 2, 'RolloutPaused');
    const whilePaused = (await koupleless(['status', 'biz1', ...ns])).stdout;
    expect(whilePaused).toContain('5 replicas, revision 2, PAUSED (kubectl koupleless resume)');
    expect(whilePaused).toContain('  kubectl koupleless resume biz1');
    expect((await koupleless(['resume', 'biz1', ...ns])).stdout.trim()).toBe(
      `deployment ${world.namespace}/biz1 resumed`,
    );
    await world.holding(2, 2, 'AwaitingConfirmation');

    const confirmed = await koupleless(['confirm', 'biz1', ...ns]);
    expect(confirmed.stdout.trim()).toBe('biz1-r2: confirmed up to batch 2 of 3');
    expect((await world.rollout(2))?.spec.confirmedBatch).toBe(2);
    const again = await koupleless(['confirm', 'biz1', '--batch', '2', ...ns]);
    expect(again.stdout.trim()).toBe('biz1-r2: batch 2 is already confirmed (confirmedBatch 2)');
  });

  it('status --wait times out while the rollout holds, and exits 0 once it completes; status then shows it done', async () => {
    await adminKubectl([
      'annotate',
      '--overwrite',
      'deployment/biz1',
      'rollout.koupleless.io/gray-seconds=0',
      ...ns,
    ]);
    await world.holding(2, 3, 'AwaitingConfirmation');
    const timedOut = await koupleless(['status', 'biz1', '--wait', '--timeout', '3s', ...ns]);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stdout).toContain(
      'biz1-r2: Holding, batch 2/3, holding: AwaitingConfirmation before batch 3',
    );
    expect(timedOut.stderr).toContain('timed out after 3s waiting for deployment');
    expect((await koupleless(['confirm', 'biz1', '--batch', '3', ...ns])).code).toBe(0);
    const done = await koupleless(['status', 'biz1', '--wait', '--timeout', '2m', ...ns]);
    expect(done.code).toBe(0);
    const status = await koupleless(['status', 'biz1', ...ns]);
    expect(status.stdout).toContain('ModuleRollout biz1-r2: Completed');
    expect(status.stdout).toMatch(/✔ batch 3: 2 pods \(up to 5\), completed \d+s ago/);
    expect(status.stdout).not.toContain('Next:');
  });

  it('aborts a rollout back to its stable revision; a wait on the aborted revision exits 1 and says so', async () => {
    await world.release('0.0.3');
    await world.holding(3, 2, 'AwaitingConfirmation');
    const waiter = started(['status', 'biz1', '--wait', '--timeout', '2m', ...ns]);
    // The wait has pinned revision 3 (it says so) before the abort.
    await waitFor(() => waiter.output().includes('biz1-r3: Holding'), {
      description: 'the wait following biz1-r3',
      timeoutMs: 30_000,
    });
    const aborted = await koupleless(['abort', 'biz1', ...ns]);
    expect(aborted.stdout).toContain("biz1-r3: abort requested: kmc puts revision 2's template back");
    expect(await waiter.exited).toBe(1);
    expect(waiter.output()).toContain('biz1-r3 ended Aborted: aborted: back to revision 2');
    await world.settled('0.0.2', 5);
    const again = await koupleless(['abort', 'biz1', ...ns]);
    expect(again.code).toBe(1);
  });
});

describe('kubectl koupleless shows a pod held by maxUnavailable', () => {
  let world: RolloutWorld;

  beforeAll(async () => {
    // Bases that install a new version deactivated update uninstall-first, each costing a replica for a while:
    // with a budget of 1, one base updates at a time and the others' pods wait.
    world = await RolloutWorld.create({
      bases: 3,
      activationMode: 'install-deactivated',
      installLatencyMs: 3_000,
      plugins: [new MaxUnavailablePlugin({ maxUnavailable: 1 })],
      // Every new pod at once, so the budget, not the Deployment controller, paces the bases.
      // (The effective budget is the smaller of the plugin's and the Deployment's own.)
      rollingUpdate: { maxSurge: 3, maxUnavailable: 1 },
    });
  });
  afterAll(async () => {
    await world.close();
  });

  it('names the hold and its reason on the held pod', async () => {
    await world.release('0.0.2');
    const text = await waitFor(
      async () => {
        const out = (await koupleless(['status', 'biz1', '-n', world.namespace])).stdout;
        if (out.includes('Held: MaxUnavailable')) return out;
        throw new Error(out);
      },
      { description: 'a pod shown Held: MaxUnavailable', timeoutMs: 60_000 },
    );
    expect(text).toMatch(/biz1-\S+ biz1:0\.0\.2 Held: MaxUnavailable on virtual-node-\S+/);
    expect(text).toContain(
      'this base updates uninstall-first, which takes a replica away; 1 of 3 replicas of biz1 are unavailable (budget 1',
    );
  });
});

describe('kubectl koupleless bases, modules and doctor', () => {
  let harness: KmcHarness;
  let bases: SimulatedBase[];

  beforeAll(async () => {
    harness = await KmcHarness.start({ startKmc: false });
    // Leader election on, so doctor finds this kmc's Lease.
    await harness.startKmc({ leaderElection: { enabled: true, namespace: harness.namespace } });
    const baseName = `base-${harness.env}`;
    bases = [
      await harness.base({ name: baseName, clusterName: 'blue' }),
      await harness.base({ name: baseName, clusterName: 'blue' }),
    ];
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = 2;
    await adminKubectl(['apply', '-n', harness.namespace, '-f', '-'], { stdin: toYaml(manifest) });
    // A cluster DaemonSet that tolerates everything, scoped to the first base: it lands there and never runs.
    const agent = clusterDaemonSet(harness.nodeName(bases[0] ?? ({} as SimulatedBase)));
    await adminKubectl(['apply', '-n', harness.namespace, '-f', '-'], { stdin: toYaml(agent) });
    await waitFor(
      () => bases.every((b) => b.timeline.activatedVersionsAt('biz1', Date.now()).includes('0.0.1')),
      { description: 'biz1 ACTIVATED on both bases', timeoutMs: 60_000 },
    );
  });
  afterAll(async () => {
    await harness.close();
  });

  it('bases lists each base with its version, cluster, health and modules, and warns of the pod that is not a module', async () => {
    const text = await waitFor(
      async () => {
        const out = (await koupleless(['bases', '-l', `virtual-kubelet.koupleless.io/env=${harness.env}`]))
          .stdout;
        if (out.includes('log-agent')) return out;
        throw new Error(out);
      },
      { description: 'bases showing the DaemonSet pod', timeoutMs: 30_000 },
    );
    for (const base of bases) {
      expect(text).toMatch(
        new RegExp(
          `${harness.nodeName(base)}\\s+base-${harness.env}\\s+1\\.0\\.0\\s+blue\\s+True\\s+\\S+\\s+biz1:0\\.0\\.1 ACTIVATED`,
        ),
      );
    }
    expect(text).toContain(
      `warning: ${harness.nodeName(bases[0] ?? ({} as SimulatedBase))}: not a module pod, never run: ${harness.namespace}/log-agent-`,
    );
    const json = JSON.parse((await koupleless(['bases', '-o', 'json'])).stdout) as {
      node: string;
      cluster: string;
    }[];
    expect(json.find((b) => b.node === harness.nodeName(bases[1] ?? ({} as SimulatedBase)))?.cluster).toBe(
      'blue',
    );
  });

  it('modules shows the instances on one base, found by base id, with their pods and workloads', async () => {
    const base = bases[1] ?? ({} as SimulatedBase);
    const result = await koupleless(['modules', base.identity]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Base ${base.identity} (node ${harness.nodeName(base)}): base-${harness.env} 1.0.0, cluster blue`,
    );
    expect(result.stdout).toMatch(
      new RegExp(
        `biz1\\s+0\\.0\\.1\\s+ACTIVATED\\s+${harness.namespace}/biz1-\\S+\\s+ReplicaSet ${harness.namespace}/biz1-`,
      ),
    );
    const unknown = await koupleless(['modules', 'no-such-base']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no base "no-such-base"');
  });

  it('doctor finds the running kmc and the DaemonSet on bases; with kmc stopped it reports the bases unserved and exits 1', async () => {
    const running = await koupleless(['doctor']);
    expect(running.stdout).toMatch(
      new RegExp(`controller: Lease ${harness.namespace}/kmc-${harness.env}, held by \\S+`),
    );
    expect(running.stdout).toContain(
      `warning: DaemonSet ${harness.namespace}/log-agent puts pods on 1 base node`,
    );
    expect(running.stdout).not.toContain(`bases of env "${harness.env}"`);

    await harness.stopKmc();
    const stopped = await koupleless(['doctor']);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain(
      `controller: Lease ${harness.namespace}/kmc-${harness.env}, not renewed`,
    );
    // Whether another kmc of another env runs in this cluster decides which of the two problems is reported.
    expect(stopped.stdout).toMatch(
      new RegExp(`problem: (bases of env "${harness.env}" .* have no running kmc|no kmc is running)`),
    );
  });
});
