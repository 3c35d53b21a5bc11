#!/usr/bin/env node
/**
 * `kubectl koupleless`: the kubectl plugin for kmc's module releases. kubectl runs `kubectl-koupleless` from PATH
 * with the arguments after `koupleless`; `npm run kubectl-koupleless -- install` puts a shim there.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeKubeError } from '../../kube/kube-errors.ts';
import { KMC_VERSION } from '../../version.ts';
import { CliError, Cluster, type ClusterOptions } from './cluster.ts';

const write = (text: string) => process.stdout.write(`${text}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

function seconds(value: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 90s, 10m or 1h');
  const factor = { s: 1, m: 60, h: 3600 }[match[2] ?? 's'] ?? 1;
  return Number(match[1]) * factor;
}

const program = new Command('kubectl koupleless')
  .description(
    'Module releases with kmc: plan a release (dry run), follow it (batches, pods, bases), confirm, pause, resume, ' +
      'abort, wait for it in a script; inspect bases and their modules; doctor. Works on the ModuleRollout objects ' +
      'kmc keeps, one per revision.',
  )
  .version(KMC_VERSION)
  .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG or ~/.kube/config)')
  .option('--context <name>', 'kubeconfig context (default: the current one)')
  .option('-n, --namespace <namespace>', "namespace (default: the context's, else default)")
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nExit codes: 0 ok; 1 failure (not found, not allowed, unreachable, a wait that ended Aborted or Superseded ' +
      'or timed out); 2 usage.\nSee docs/rollouts.md.',
  );

const cluster = () => new Cluster(program.opts<ClusterOptions>());

program
  .command('status')
  .description(
    'the rollout of a Deployment: batches, their pods and the bases under them, holds, timers, next step',
  )
  .argument('<deployment>', 'a module Deployment')
  .option('-w, --watch', 'refresh until the rollout ends')
  .option(
    '--wait',
    'wait until the rollout of the latest spec ends: exit 0 when Completed, 1 when Aborted or Superseded',
  )
  .option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h)', seconds, 600)
  .addOption(new Option('-o, --output <format>', 'machine-readable output').choices(['json', 'yaml']))
  .action(
    async (
      deployment: string,
      options: { watch?: boolean; wait?: boolean; timeout: number; output?: 'json' | 'yaml' },
    ) => {
      const { statusCommand } = await import('./status-command.ts');
      process.exitCode = await statusCommand(cluster(), deployment, options, write);
    },
  );

program
  .command('confirm')
  .description('let the next batch start (writes spec.confirmedBatch on the current ModuleRollout)')
  .argument('<deployment>', 'a module Deployment')
  .option('--batch <n>', 'confirm up to this batch (default: the batch awaiting a confirmation)', positiveInt)
  .action(async (deployment: string, options: { batch?: number }) => {
    const { confirmCommand } = await import('./rollout-actions.ts');
    await confirmCommand(cluster(), deployment, options.batch, write);
  });

program
  .command('pause')
  .description('pause the Deployment (kubectl rollout pause): no further batch starts')
  .argument('<deployment>', 'a module Deployment')
  .action(async (deployment: string) => {
    const { setPaused } = await import('./rollout-actions.ts');
    await setPaused(cluster(), deployment, true, write);
  });

program
  .command('resume')
  .description('resume a paused Deployment (kubectl rollout resume)')
  .argument('<deployment>', 'a module Deployment')
  .action(async (deployment: string) => {
    const { setPaused } = await import('./rollout-actions.ts');
    await setPaused(cluster(), deployment, false, write);
  });

program
  .command('abort')
  .description("roll the current rollout back to its stable revision (kmc restores that revision's template)")
  .argument('<deployment>', 'a module Deployment')
  .action(async (deployment: string) => {
    const { abortCommand } = await import('./rollout-actions.ts');
    await abortCommand(cluster(), deployment, write);
  });

program
  .command('plan')
  .description(
    'dry-run the next rollout with the controller’s planner: kind, batches, holds, budgets, warnings',
  )
  .argument('<deployment>', 'a module Deployment (or, with -f, one to create)')
  .option('-f, --filename <file>', 'plan this manifest as the next revision (- for stdin)')
  .option('--config <file>', 'the kmc config whose plugins plan (default: the search kmc run does)')
  .addOption(new Option('-o, --output <format>', 'machine-readable output').choices(['json', 'yaml']))
  .action(
    async (deployment: string, options: { filename?: string; config?: string; output?: 'json' | 'yaml' }) => {
      const { planCommand } = await import('./plan-command.ts');
      const { filename, config, output } = options;
      process.exitCode = await planCommand(
        program.opts<ClusterOptions>(),
        deployment,
        {
          ...(filename ? { file: filename } : {}),
          ...(config ? { config } : {}),
          ...(output ? { output } : {}),
        },
        write,
      );
    },
  );

program
  .command('bases')
  .description(
    'every base: version, cluster, health, activation mode, modules and their states, foreign pods',
  )
  .option(
    '-l, --selector <labels>',
    'only the bases whose nodes match (e.g. virtual-kubelet.koupleless.io/env=dev)',
  )
  .addOption(new Option('-o, --output <format>', 'machine-readable output').choices(['json', 'yaml']))
  .action(async (options: { output?: 'json' | 'yaml'; selector?: string }) => {
    const { basesCommand } = await import('./bases-command.ts');
    await basesCommand(cluster(), options, write);
  });

program
  .command('modules')
  .description('the module instances on one base: pods, states, retained instances, the workloads they serve')
  .argument('<base>', 'a node name (virtual-node-…) or a base id')
  .addOption(new Option('-o, --output <format>', 'machine-readable output').choices(['json', 'yaml']))
  .action(async (base: string, options: { output?: 'json' | 'yaml' }) => {
    const { modulesCommand } = await import('./bases-command.ts');
    await modulesCommand(cluster(), base, options.output, write);
  });

program
  .command('doctor')
  .description(
    'look for what breaks releases: no kmc running, bases of an env no kmc serves, stale nodes, DaemonSets on bases',
  )
  .action(async () => {
    const { doctorCommand } = await import('./bases-command.ts');
    process.exitCode = await doctorCommand(cluster(), write);
  });

program
  .command('install')
  .description(
    'put the kubectl-koupleless shim on PATH (run it through npm, so it uses the project’s Node 24)',
  )
  .option('--dir <dir>', 'where to write it (default: ~/.local/bin)')
  .action(async (options: { dir?: string }) => {
    const { installCommand } = await import('./install-command.ts');
    await installCommand(options.dir, write);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CliError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`error: ${describeKubeError(error)}\n`);
  process.exitCode = 1;
});
