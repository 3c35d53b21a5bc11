import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { configSchema } from '../../config/config-schema.ts';
import { resolvePlugins } from '../../config/resolve-plugins.ts';
import { runCommand } from '../../core/cluster/run-command.ts';
import { Orchestrator } from '../../core/orchestrator.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { namespaceAsDefault, normalise } from '../support/tutorial-normalise.ts';
import { parseTutorial, withOutputs, type TutorialStep } from '../support/tutorial-transcript.ts';
import { uniqueId } from '../support/unique-id.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The README tutorial, run as written: every `$ ` command of its console blocks, in order, through a shell at the
 * repository root, with the real kubectl and `kubectl koupleless` through its installed shim (on a PATH without
 * the project's node_modules/.bin or its Node), against a world set up like `npm run playground`: kmc with the
 * plugins the playground resolves from no config (the strategy plugins implicit, switched on by the Deployment's
 * annotations), kmc's default env `dev`, and three simulated bases `base-1` … `base-3` named `base` 1.0.0 with the
 * playground's IPs and install latency. The commands run in a namespace of the test's own (the context namespace of
 * a kubeconfig copy), which the normaliser shows as `default`.
 *
 * Each output must equal the README's after the normaliser of test/support/tutorial-normalise.ts. With
 * KMC_TUTORIAL_WRITE=1 the test writes the outputs it got into README.md instead (the namespace shown as
 * `default`, nothing else changed): `KMC_TUTORIAL_WRITE=1 npx vitest run --project e2e test/e2e/tutorial.test.ts`.
 *
 * Isolation: the bases are the playground's (ids base-1 … base-3, so nodes virtual-node-base-1 …, which no other
 * test uses) in env `dev`, which no other test's kmc runs; the manifests select that env, so the scheduler never
 * puts the tutorial's pods on other tests' bases (vnode.test.ts has bases named `base` 1.0.0 too).
 *
 * What is not waited for: right after a ModuleRollout's hold or completion is observed, the Deployment controller
 * and kmc need a few hundred milliseconds more to replace the superseded old pod; `kubectl koupleless` takes 1–3 s to
 * start, so its tree is always past that. The gray-time look must come within the 20 s of gray time (it takes 1–4 s).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = join(ROOT, 'README.md');
const PLUGIN_ENTRY = join(ROOT, 'core/cli/kubectl/kubectl-koupleless.ts');
const WRITE = process.env['KMC_TUTORIAL_WRITE'] === '1';
/** kmc's default env, which the playground runs and the tutorial's manifests select. */
const PLAYGROUND_ENV = 'dev';
/** One command of the tutorial may take this long (its own waits have shorter timeouts). */
const COMMAND_TIMEOUT_MS = 150_000;

interface Output {
  readonly code: number | null;
  /** stdout and stderr as a terminal shows them: interleaved in arrival order. */
  readonly text: string;
  readonly ms: number;
}

/** Runs one tutorial line with sh, as a reader's shell would. */
function run(command: string, env: NodeJS.ProcessEnv): Promise<Output> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, text, ms: Date.now() - started });
    });
  });
}

describe('the README tutorial: a release with kubectl, on a playground-like world', () => {
  let harness: KmcHarness | undefined;
  let kmc: Orchestrator | undefined;
  let dir: string | undefined;
  let env: NodeJS.ProcessEnv;
  let steps: TutorialStep[];

  beforeAll(async () => {
    steps = parseTutorial(await readFile(README, 'utf8'));
    harness = await KmcHarness.start({ startKmc: false });
    // The playground's kmc: no config file, so no plugins listed (the strategy plugins are implicit), env `dev`.
    const config = configSchema.parse({ ...harness.kmcConfig(), env: PLAYGROUND_ENV });
    kmc = new Orchestrator({
      config,
      kc: harness.kc,
      plugins: await resolvePlugins(config.plugins, undefined),
      logger: harness.logger,
      identity: uniqueId('kmc'),
    });
    await kmc.start();
    // The playground's bases (core/cli/playground-command.ts).
    for (let i = 1; i <= 3; i += 1) {
      await harness.base({
        identity: `base-${String(i)}`,
        env: PLAYGROUND_ENV,
        name: 'base',
        version: '1.0.0',
        localIP: `10.0.0.${String(i + 10)}`,
        hostname: `base-${String(i)}`,
        installLatencyMs: 500,
      });
    }
    const core = harness.kc.makeApiClient(CoreV1Api);
    await waitFor(
      async () => {
        const nodes = await core.listNode({
          labelSelector: `virtual-kubelet.koupleless.io/env=${PLAYGROUND_ENV}`,
        });
        return (
          nodes.items.filter((n) =>
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          ).length === 3
        );
      },
      { description: 'the three bases Ready as nodes', timeoutMs: 60_000 },
    );

    dir = await mkdtemp(join(tmpdir(), 'kmc-tutorial-'));
    // The plugin as the tutorial installs it (npm run kubectl-koupleless -- install), into a directory of its own.
    const bin = join(dir, 'bin');
    await runCommand(process.execPath, [PLUGIN_ENTRY, 'install', '--dir', bin]);
    // A kubeconfig whose context namespace is the test's: the tutorial's commands carry no -n.
    const kubeconfig = parse(await readFile(inject('kubeconfig'), 'utf8')) as {
      'current-context': string;
      contexts: { name: string; context: Record<string, unknown> }[];
    };
    for (const context of kubeconfig.contexts)
      if (context.name === kubeconfig['current-context']) context.context['namespace'] = harness.namespace;
    await writeFile(join(dir, 'kubeconfig'), stringify(kubeconfig));
    env = {
      HOME: dir,
      KUBECONFIG: join(dir, 'kubeconfig'),
      PATH: [bin, dirname(inject('kubectl')), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    };
  });

  afterAll(async () => {
    await kmc?.stop().catch(() => undefined);
    if (harness) {
      await harness.close();
      // Nodes are cluster-scoped: remove this test's (harness.close removes those of the harness's own env only).
      const core = harness.kc.makeApiClient(CoreV1Api);
      for (let i = 1; i <= 3; i += 1)
        await core.deleteNode({ name: `virtual-node-base-${String(i)}` }).catch(() => undefined);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every command prints what the README shows (after the documented normaliser)', async () => {
    const namespace = harness?.namespace;
    expect(steps.length).toBeGreaterThan(10);
    const outputs: string[] = [];
    // How long each command took, printed when the test fails or writes (the gray time leaves 20 s for a look).
    const timings: string[] = [];
    let passed = false;
    try {
      for (const step of steps) {
        const result = await run(step.command, env);
        timings.push(`${String(result.ms).padStart(6)} ms  $ ${step.command}`);
        const where = `README.md:${String(step.line)}: $ ${step.command}`;
        expect(result.code, `${where}\nexited ${String(result.code)}:\n${result.text}`).toBe(0);
        // In the README the namespace is the playground's, `default`; nothing else is changed.
        outputs.push(namespaceAsDefault(result.text, namespace));
        if (WRITE) continue;
        expect(normalise(result.text, { namespace }), where).toBe(normalise(step.expected.join('\n')));
      }
      passed = true;
    } finally {
      if (WRITE || !passed) process.stderr.write(`[tutorial] command times:\n${timings.join('\n')}\n`);
    }
    if (WRITE) {
      // Re-read: other sections may have changed meanwhile; this section's commands must not have.
      const current = await readFile(README, 'utf8');
      const now = parseTutorial(current);
      expect(now.map((s) => s.command)).toEqual(steps.map((s) => s.command));
      await writeFile(README, withOutputs(current, now, outputs));
      process.stderr.write(`[tutorial] wrote ${String(outputs.length)} outputs into ${README}\n`);
    }
  });
});
