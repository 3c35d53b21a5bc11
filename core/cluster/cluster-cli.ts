/**
 * `npm run cluster -- <command>`: a local Kubernetes control plane for development and the playground.
 *
 *   up      start one in the background (building the binaries first if needed); prints `export KUBECONFIG=…`
 *   down    stop it and remove its data
 *   status  what runs where
 *   build   only build / check the cached binaries
 */
import { Command, Option } from 'commander';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBinaries } from './build-binaries.ts';
import { readState, startControlPlane, stopSupervisor } from './control-plane.ts';
import { isAlive } from './process-alive.ts';
import { K8S_VERSION, binDir, kmcCacheDir } from './k8s-release.ts';
import { timerProfile } from './timer-profiles.ts';

const log = (message: string) => process.stderr.write(`[cluster] ${message}\n`);
const clusterDir = (name: string) => join(kmcCacheDir(), 'clusters', name);

const program = new Command('cluster')
  .description(
    'Run a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler).',
  )
  .addOption(new Option('--name <name>', 'which local cluster').default('default'));

program
  .command('up')
  .description('start a control plane in the background and print `export KUBECONFIG=<path>` on stdout')
  .addOption(
    new Option('--profile <profile>', 'timers: realistic = Kubernetes defaults, fast = test timers')
      .choices(['realistic', 'fast'])
      .default('realistic'),
  )
  .action(async (options: { profile: string }) => {
    const name = program.opts<{ name: string }>().name;
    const dir = clusterDir(name);
    const state = await readState(join(dir, 'state.json'));
    if (state?.phase === 'running' && isAlive(state.supervisorPid)) {
      log(`cluster "${name}" is already running (${state.apiserverUrl})`);
      process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
      return;
    }
    await rm(dir, { recursive: true, force: true });
    const plane = await startControlPlane({
      dataDir: dir,
      profile: timerProfile(options.profile),
      mode: 'detached',
      withKubectl: true,
      onProgress: log,
    });
    log(`cluster "${name}" is up at ${plane.apiserverUrl} (${options.profile} timers, ${plane.startMs} ms)`);
    log(`stop it with: npm run cluster -- down${name === 'default' ? '' : ` --name ${name}`}`);
    process.stdout.write(`export KUBECONFIG=${plane.kubeconfig}\n`);
  });

program
  .command('down')
  .description('stop the control plane and remove its data')
  .option('--keep-data', 'keep etcd data, logs and PKI')
  .action(async (options: { keepData?: boolean }) => {
    const name = program.opts<{ name: string }>().name;
    const dir = clusterDir(name);
    const state = await readState(join(dir, 'state.json'));
    if (!state) {
      log(`no cluster "${name}" found in ${dir}`);
      return;
    }
    await stopSupervisor(state.supervisorPid);
    if (!options.keepData) await rm(dir, { recursive: true, force: true });
    log(`cluster "${name}" stopped`);
  });

program
  .command('status')
  .description(
    'show whether the control plane runs, its processes, ports, kubeconfig and logs (exit 3 when not running)',
  )
  .action(async () => {
    const name = program.opts<{ name: string }>().name;
    const dir = clusterDir(name);
    const state = await readState(join(dir, 'state.json'));
    if (!state) {
      process.stdout.write(`cluster "${name}": not running (no state in ${dir})\n`);
      process.exitCode = 3;
      return;
    }
    const alive = isAlive(state.supervisorPid);
    const phase = alive
      ? state.phase
      : `${state.phase === 'running' ? 'dead' : state.phase} (supervisor gone)`;
    const lines = [
      `cluster "${name}": ${phase}${state.message ? ` — ${state.message}` : ''}`,
      `  kubernetes  ${state.version} (${state.profile} timers)`,
      `  apiserver   ${state.apiserverUrl}`,
      `  kubeconfig  ${state.kubeconfig}`,
      `  supervisor  pid ${state.supervisorPid}`,
      `  started     ${state.startedAt}${state.readyAt ? `, ready ${state.readyAt}` : ''}`,
      '  components:',
      ...Object.entries(state.components).map(([component, info]) => {
        const pid = info.pid === undefined ? '-' : `${info.pid}${isAlive(info.pid) ? '' : ' (gone)'}`;
        return `    ${component.padEnd(24)} pid ${pid.padEnd(14)} log ${info.logFile}`;
      }),
      `  ports       etcd ${state.ports.etcdClient}/${state.ports.etcdPeer}, apiserver ${state.ports.apiserver}, ` +
        `controller-manager ${state.ports.controllerManager}, scheduler ${state.ports.scheduler}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (!(alive && state.phase === 'running')) process.exitCode = 3;
  });

program
  .command('build')
  .description(`build the binaries into ${binDir()} if any is missing (Kubernetes ${K8S_VERSION})`)
  .action(async () => {
    const bin = await ensureBinaries({ withKubectl: true, onProgress: log });
    log(`binaries ready in ${bin}`);
  });

program.parseAsync().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
