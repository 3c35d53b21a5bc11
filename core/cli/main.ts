#!/usr/bin/env node
/**
 * The kmc command line. `npm run kmc -- <command>` from a clone.
 */
import { Command, Option } from 'commander';
import { ConfigError, describeError } from '../errors.ts';
import { KMC_VERSION } from '../version.ts';
import { EXIT } from './exit-codes.ts';

const program = new Command('kmc')
  .description(
    'Koupleless ModuleController in TypeScript: Koupleless bases become Kubernetes nodes, module pods become ' +
      'install / uninstall commands over MQTT, and module releases follow plugin-based strategies.',
  )
  .version(KMC_VERSION)
  .addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 runtime failure, 2 invalid configuration or usage, 3 leadership lost (restart me).\n' +
      'Config files: koupleless.config.{ts,js,mjs,json,yaml}, .kouplelessrc*, or the "koupleless" key of package.json,\n' +
      'searched from the current directory up to the project root; --config names one.',
  );

program
  .command('run')
  .description(
    'run the controller against the current kubeconfig (the embedded MQTT broker when no mqtt.url is set)',
  )
  .option('-c, --config <file>', 'config file (default: searched)')
  .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
  .option(
    '--identity <id>',
    'this replica’s identity for leader election and MQTT (default: hostname + random)',
  )
  .action(async (options: { config?: string; kubeconfig?: string; identity?: string }) => {
    const { runCommand } = await import('./run-command.ts');
    await runCommand(options);
  });

program
  .command('validate')
  .description(
    'check the config file and every plugin option without touching a cluster; print what would run',
  )
  .option('-c, --config <file>', 'config file (default: searched)')
  .action(async (options: { config?: string }) => {
    const { validateCommand } = await import('./validate-command.ts');
    await validateCommand(options);
  });

program
  .command('playground')
  .description(
    'start a local Kubernetes control plane, the embedded broker, simulated bases and the controller',
  )
  .addOption(new Option('--bases <n>', 'simulated bases').default('3'))
  .addOption(
    new Option('--profile <profile>', 'Kubernetes timers')
      .choices(['realistic', 'fast'])
      .default('realistic'),
  )
  .option('--base-name <name>', 'base name the simulated bases report', 'base')
  .option('--base-version <version>', 'base version they report', '1.0.0')
  .option('-c, --config <file>', 'config file (default: searched)')
  .action(
    async (options: {
      bases: string;
      profile: string;
      config?: string;
      baseName: string;
      baseVersion: string;
    }) => {
      const bases = Number.parseInt(options.bases, 10);
      if (!Number.isInteger(bases) || bases < 0)
        throw new ConfigError(`--bases must be a number, not "${options.bases}"`);
      const { playgroundCommand } = await import('./playground-command.ts');
      await playgroundCommand({ ...options, bases });
    },
  );

program.parseAsync().catch((error: unknown) => {
  const verbose = process.argv.includes('--verbose');
  process.stderr.write(
    `kmc: ${verbose && error instanceof Error ? (error.stack ?? error.message) : describeError(error)}\n`,
  );
  process.exit(error instanceof ConfigError ? EXIT.config : EXIT.failure);
});
