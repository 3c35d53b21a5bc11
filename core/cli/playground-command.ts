import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from '../cluster/control-plane.ts';
import { runCommand } from '../cluster/run-command.ts';
import { ROLLOUT_CRD } from '../rollout/module-rollout.ts';

const ROLLOUT_CRD_MANIFEST = fileURLToPath(
  new URL('../../examples/deploy/crds/modulerollouts.rollout.koupleless.io.yaml', import.meta.url),
);
import { timerProfile } from '../cluster/timer-profiles.ts';
import { describeError } from '../errors.ts';
import { startHealthServer } from '../health-server.ts';
import { createLogger } from '../logger.ts';
import { Orchestrator } from '../orchestrator.ts';
import { SimulatedBase } from '../sim/simulated-base.ts';
import { loadConfig } from '../../config/load-config.ts';
import { resolvePlugins } from '../../config/resolve-plugins.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { waitForCrdEstablished } from '../kube/crd-established.ts';

export interface PlaygroundOptions {
  readonly bases: number;
  readonly profile: string;
  readonly config?: string;
  readonly baseName: string;
  readonly baseVersion: string;
}

const say = (message: string) => process.stderr.write(`[playground] ${message}\n`);

/**
 * `kmc playground`: everything on this machine — a local Kubernetes control plane, the embedded MQTT broker,
 * N simulated bases and the controller — until Ctrl-C, which stops all of it.
 */
export async function playgroundCommand(options: PlaygroundOptions): Promise<void> {
  const { config: loaded, file } = await loadConfig({ file: options.config });
  const config = {
    ...loaded,
    // One process, one replica: no election to wait for. A free port for the embedded broker and the server.
    leaderElection: { ...loaded.leaderElection, enabled: false },
    mqtt: {
      ...loaded.mqtt,
      embedded: { ...loaded.mqtt.embedded, port: loaded.mqtt.url ? loaded.mqtt.embedded.port : 0 },
    },
    server: { ...loaded.server, host: '127.0.0.1', port: 0 },
  };
  const plane = await startControlPlane({
    profile: timerProfile(options.profile),
    withKubectl: true,
    onProgress: (message) => {
      say(message);
    },
  });
  say(`Kubernetes ready at ${plane.apiserverUrl} (${options.profile} timers)`);
  const kubectl = join(plane.binDir, 'kubectl');
  const env = { ...process.env, KUBECONFIG: plane.kubeconfig };
  await runCommand(kubectl, ['apply', '-f', ROLLOUT_CRD_MANIFEST], { env });
  await waitForCrdEstablished(loadKubeConfig(plane.kubeconfig), ROLLOUT_CRD);
  say('ModuleRollout CRD installed');
  const logger = createLogger({ level: config.log.level });
  const orchestrator = new Orchestrator({
    config,
    kc: loadKubeConfig(plane.kubeconfig),
    plugins: await resolvePlugins(config.plugins, file),
    logger,
  });
  const bases: SimulatedBase[] = [];
  const stopAll = async () => {
    for (const base of bases) await base.stop().catch(() => undefined);
    await orchestrator.stop().catch(() => undefined);
    await plane.stop();
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    say('stopping the bases, the controller and Kubernetes');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await orchestrator.start();
    const health = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      registry: orchestrator.metrics.registry,
      ready: () => orchestrator.ready,
    });
    const broker = orchestrator.brokerUrl ?? '';
    for (let i = 1; i <= options.bases; i += 1) {
      const base = new SimulatedBase({
        brokerUrl: broker,
        identity: `base-${i}`,
        env: config.env,
        name: options.baseName,
        version: options.baseVersion,
        localIP: `10.0.0.${i + 10}`,
        hostname: `base-${i}`,
        installLatencyMs: 500,
      });
      await base.start();
      bases.push(base);
    }
    const lines = [
      '',
      `kmc playground is up: ${options.bases} simulated base(s) "${options.baseName}" ${options.baseVersion}, env ${config.env}.`,
      '',
      'Point kubectl at it (in another terminal):',
      `  export KUBECONFIG=${plane.kubeconfig}`,
      '  kubectl get nodes -L base.koupleless.io/name,base.koupleless.io/version',
      '',
      'Release a module:',
      '  kubectl apply -f examples/manifests/module-deployment.yaml',
      '  kubectl get pods -o wide -w',
      '',
      'A batched release, step by step: the README tutorial ("Tutorial: a release with kubectl");',
      'the kubectl plugin it uses: npm run kubectl-koupleless -- install',
      '',
      `MQTT broker: ${broker}   metrics: http://127.0.0.1:${health.port}/metrics`,
      'Ctrl-C stops everything.',
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } catch (error) {
    say(`could not start: ${describeError(error)}`);
    await stopAll();
    throw error;
  }
}
