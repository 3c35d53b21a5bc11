import { KubeConfig } from '@kubernetes/client-node';
import { Orchestrator } from '../orchestrator.ts';
import { silentLogger } from '../logger.ts';
import { loadConfig } from '../../config/load-config.ts';
import { resolvePlugins } from '../../config/resolve-plugins.ts';

/**
 * `kmc validate`: loads and checks the config and every plugin's options (the plugins' own `validate` taps
 * included) without touching a cluster or a broker, and prints what would run.
 */
export async function validateCommand(options: { config?: string }): Promise<void> {
  const { config, file } = await loadConfig({ file: options.config });
  const plugins = await resolvePlugins(config.plugins, file);
  // A placeholder cluster: validation builds the orchestrator and its plugins but never contacts Kubernetes.
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'validate', server: 'https://127.0.0.1:1', skipTLSVerify: true },
    { name: 'validate' },
  );
  const orchestrator = new Orchestrator({ config, kc, plugins, logger: silentLogger() });
  orchestrator.hooks.validate.call();
  const taps = Object.entries(orchestrator.hooks)
    .map(
      ([hook, instance]) =>
        [hook, (instance as { taps: { name: string }[] }).taps.map((t) => t.name)] as const,
    )
    .filter(([, names]) => names.some((name) => name !== 'kmc'));
  const implicit = orchestrator.plugins.slice(plugins.length).map((p) => p.name);
  const lines = [
    `config: ${file ?? '(none found: defaults)'}`,
    `env: ${config.env} (topics koupleless_${config.env}/...)`,
    `broker: ${config.mqtt.url ?? `embedded, ${config.mqtt.embedded.host}:${config.mqtt.embedded.port}`}`,
    `watch: ${config.watch.namespaces.length > 0 ? config.watch.namespaces.join(', ') : 'all namespaces'}` +
      (config.watch.deploymentSelector ? `, Deployments matching ${config.watch.deploymentSelector}` : ''),
    `leader election: ${config.leaderElection.enabled ? `on (lease ${config.leaderElection.leaseSeconds} s)` : 'off'}`,
    `plugins: ${plugins.length > 0 ? plugins.map((p) => p.name).join(', ') : '(none)'}`,
    ...(implicit.length > 0
      ? [`also applied, off unless a Deployment's annotations switch them on: ${implicit.join(', ')}`]
      : []),
    'hooks tapped, in call order:',
    ...taps.map(([hook, names]) => `  ${hook}: ${names.filter((n) => n !== 'kmc').join(', ')}`),
    'configuration is valid',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
