import { KubeConfig } from '@kubernetes/client-node';
import type { KmcConfig } from '../../../config/config-schema.ts';
import { loadConfig } from '../../../config/load-config.ts';
import { resolvePlugins } from '../../../config/resolve-plugins.ts';
import { silentLogger } from '../../logger.ts';
import { Orchestrator } from '../../orchestrator.ts';
import type { KmcPlugin } from '../../plugin.ts';
import { planRollout } from '../../rollout/plan-rollout.ts';
import type { RolloutView } from '../../rollout/rollout-types.ts';
import type { ConfigStrategy } from '../../rollout/strategy.ts';

/** The built-in plugins whose `holdBatch` taps `plan` models itself (every other tap may hold too). */
const MODELLED_HOLD_TAPS = new Set(['max-unavailable', 'gray-time', 'pause-and-confirm']);

/**
 * What `plan` takes from a kmc config file: the strategy defaults the listed plugins set and the planner they make
 * up — built exactly as `kmc run` builds them (an Orchestrator with the config's plugins and the implicit strategy
 * plugins applied, never started), so the plan comes from the controller's own code.
 */
export interface PlanConfig {
  /** The config file used; undefined when none was found (defaults, no strategy plugin listed). */
  readonly file: string | undefined;
  /** Plugins the config lists, in order. */
  readonly plugins: readonly string[];
  /** Strategy plugins applied although not listed: off unless a Deployment's annotations switch them on. */
  readonly implicit: readonly string[];
  /** The config's strategy (Orchestrator.strategyConfig: `rollout` and every plugin's `strategyDefaults`). */
  readonly strategy: ConfigStrategy;
  /** What the listed plugins set (the implicit ones only set their defaults): tells "config" from "default". */
  readonly listed: Partial<ConfigStrategy>;
  readonly watch: { readonly namespaces: readonly string[]; readonly deploymentSelector: string };
  /** peer-replica-syncer is listed: peer Deployments get one replica per matching Ready base. */
  readonly peerReplicas: boolean;
  /** Plugins with a `holdBatch` tap `plan` does not model (custom ones): they may hold batches too. */
  readonly otherHoldTaps: readonly string[];
  /** The rollout engine's planning: the default plan, then every plugin's `planBatches` tap. */
  readonly planBatches: (view: RolloutView) => number[];
}

/** A cluster no request is ever sent to: the orchestrator is built for its hooks and plugins only. */
function placeholderKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'plan', server: 'https://127.0.0.1:1', skipTLSVerify: true },
    { name: 'plan' },
  );
  return kc;
}

/** The plan config of an already loaded config and its resolved plugins. Never touches a cluster. */
export function planConfig(
  config: KmcConfig,
  plugins: readonly KmcPlugin[],
  file: string | undefined,
): PlanConfig {
  const orchestrator = new Orchestrator({
    config,
    kc: placeholderKubeConfig(),
    plugins,
    logger: silentLogger(),
  });
  orchestrator.hooks.validate.call();
  const hooks = orchestrator.hooks;
  return {
    file,
    plugins: plugins.map((p) => p.name),
    implicit: orchestrator.plugins.slice(plugins.length).map((p) => p.name),
    strategy: orchestrator.strategyConfig(),
    listed: Object.assign({}, ...plugins.map((p) => p.strategyDefaults ?? {})) as Partial<ConfigStrategy>,
    watch: { namespaces: config.watch.namespaces, deploymentSelector: config.watch.deploymentSelector },
    peerReplicas: orchestrator.plugins.some((p) => p.name === 'peer-replica-syncer'),
    otherHoldTaps: [
      ...new Set(hooks.holdBatch.taps.map((t) => t.name).filter((n) => !MODELLED_HOLD_TAPS.has(n))),
    ],
    planBatches: (view) => planRollout(hooks, view),
  };
}

/**
 * Loads the kmc config as `kmc run` does — the named file, else cosmiconfig's search from the working directory
 * up to the project root — and resolves its plugins (custom ones by path or package name too).
 */
export async function loadPlanConfig(file: string | undefined, cwd?: string): Promise<PlanConfig> {
  const loaded = await loadConfig({ file, ...(cwd ? { cwd } : {}) });
  const plugins = await resolvePlugins(loaded.config.plugins, loaded.file);
  return planConfig(loaded.config, plugins, loaded.file);
}
