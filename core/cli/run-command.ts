import { ConfigError, describeError } from '../errors.ts';
import { startHealthServer } from '../health-server.ts';
import { createLogger } from '../logger.ts';
import { Orchestrator } from '../orchestrator.ts';
import { loadConfig } from '../../config/load-config.ts';
import { resolvePlugins } from '../../config/resolve-plugins.ts';
import { EXIT } from './exit-codes.ts';
import { loadKubeConfig } from './kubeconfig.ts';

export interface RunOptions {
  readonly config?: string;
  readonly kubeconfig?: string;
  readonly identity?: string;
}

/**
 * `kmc run`: the controller against the current kubeconfig, until SIGTERM / SIGINT. The first signal stops it
 * gracefully (leader Lease released, so a standby takes over at once); a second one exits immediately.
 */
export async function runCommand(options: RunOptions): Promise<void> {
  const { config, file } = await loadConfig({ file: options.config });
  const logger = createLogger({ level: config.log.level });
  const plugins = await resolvePlugins(config.plugins, file);
  const kc = loadKubeConfig(options.kubeconfig);
  const orchestrator = new Orchestrator({
    config,
    kc,
    plugins,
    logger,
    ...(options.identity ? { identity: options.identity } : {}),
    onLeadershipLost: (reason) => {
      logger.fatal({ reason }, 'lost leadership: exiting so this replica restarts as a follower');
      process.exit(EXIT.leadershipLost);
    },
  });
  const health = await startHealthServer({
    host: config.server.host,
    port: config.server.port,
    registry: orchestrator.metrics.registry,
    ready: () => orchestrator.ready,
  });
  logger.info(
    {
      config: file ?? '(defaults)',
      env: config.env,
      broker: config.mqtt.url ?? 'embedded',
      plugins: orchestrator.plugins.map((p) => p.name),
      health: `http://${config.server.host}:${health.port}/healthz`,
      identity: orchestrator.identity,
    },
    'kmc starting',
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(EXIT.failure);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error('graceful stop took longer than 30 s: exiting');
      process.exit(EXIT.failure);
    }, 30_000);
    deadline.unref();
    orchestrator
      .stop()
      .then(() => health.close())
      .then(
        () => process.exit(EXIT.ok),
        (error: unknown) => {
          logger.error({ err: describeError(error) }, 'stop failed');
          process.exit(EXIT.failure);
        },
      );
  };
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  try {
    await orchestrator.start();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    logger.fatal({ err: describeError(error) }, 'kmc could not start');
    await health.close();
    throw error;
  }
  logger.info('kmc running');
}
