/**
 * Every hook kmc exposes, declared in this one place (ARCHITECTURE §3.5). Plugins tap them; core calls them.
 * Each hook's kind is part of its contract:
 * - Sync / AsyncSeries: every tap runs, in order; results are ignored.
 * - ...Bail: taps run in order until one returns something other than undefined; that value wins.
 * - ...Waterfall: each tap receives the previous tap's result as its first argument and returns the next.
 * A tap that throws (or rejects) fails the call with a PluginError naming the plugin (the tap name) and the hook.
 */
import type { V1Deployment, V1Node, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import {
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  SyncHook,
  SyncWaterfallHook,
} from 'tapable';
import { PluginError } from './errors.ts';
import type { Hold } from './hold.ts';
import type { Batch, Plan, PodRollout, RolloutView } from './rollout/rollout-types.ts';
import type { BizStatus } from './tunnel/tunnel.ts';
import type { BaseRecord } from './vnode/base-registry.ts';
import type { NodeFields } from './vnode/node-template.ts';

/** A base as hooks see it. */
export type BaseView = Readonly<BaseRecord>;

/** What `holdInstall` taps know about a pod that waits to install. */
export interface InstallContext {
  readonly base: BaseView;
  readonly node: V1Node | undefined;
  /** Everything on the base, as it currently reports it, by `name:version`. */
  readonly inventory: ReadonlyMap<string, BizStatus>;
  /** For a pod of a Deployment kmc rolls out: its rollout and the pod's revision in it. */
  readonly rollout: PodRollout | undefined;
  /** The module instances the pod asks for, as the base currently reports them (undefined: not on the base). */
  readonly modules: readonly {
    readonly bizName: string;
    readonly bizVersion: string;
    readonly onBase: BizStatus | undefined;
  }[];
}

/** One module instance, for the install / uninstall observers. */
export interface ModuleEvent {
  readonly base: BaseView;
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
  /** The pod that asked for it, if any (an uninstall of a stray module has none). */
  readonly pod: V1Pod | undefined;
  /** Failure text for installFailed. */
  readonly message?: string;
}

/** What `podStatus` taps see of one pod: its modules as the base reports them. */
export interface PodModuleReport {
  readonly base: BaseView | undefined;
  readonly modules: readonly {
    readonly container: string;
    readonly bizVersion: string;
    readonly status: BizStatus | undefined;
  }[];
}

/** A base the scheduler plugin may place a pod on: it passed every built-in filter, the module cap included. */
export interface NodeCandidate {
  readonly node: V1Node;
  /** Module pods on the base now (what counts against the cap), binds of this scheduler not yet seen included. */
  readonly modules: number;
  /** The base's module cap: its allocatable pods. */
  readonly cap: number;
}
/**
 * A candidate with its score: the policy's 0 to 100 (scatter: emptier is higher; stacking: fuller is higher),
 * up to +50 each for the pod's preferred node affinity, its ScheduleAnyway topology spread and its preferred pod
 * (anti-)affinity, +100 where the pod replaces another version in place, −100 where the revision guard would hold
 * it. The highest wins; ties go to the node name that sorts first.
 */
export interface ScoredNode extends NodeCandidate {
  readonly score: number;
}

export function createHooks() {
  const hooks = {
    // ---- controller lifecycle --------------------------------------------------------------------------
    /** Plugins check their options; a throw stops start-up with the plugin named. */
    validate: new SyncHook<[]>([]),
    /** After every plugin is applied, before leader election: start own watches, load state. */
    initialize: new AsyncSeriesHook<[]>([]),
    /** On stop: release what initialize took. */
    shutdown: new AsyncSeriesHook<[]>([]),
    /**
     * This replica became the leader and its controllers run: start what writes to Kubernetes. (A replica that
     * loses leadership exits, so there is no counterpart.)
     */
    leading: new AsyncSeriesHook<[]>([]),

    // ---- vnode: bases and their nodes --------------------------------------------------------------------
    /** The fields kmc owns on a base's Node (labels, taints, capacity): plugins add or change them. */
    nodeTemplate: new SyncWaterfallHook<[NodeFields, BaseView]>(['fields', 'base']),
    /** A base was heard for the first time, or again after it was silent / gone. */
    baseOnline: new AsyncSeriesHook<[BaseView]>(['base']),
    /** A base turned NotReady (silent, deactivated, replaced) or its node was deleted. */
    baseOffline: new AsyncSeriesHook<[BaseView, string]>(['base', 'reason']),

    // ---- module: pods on bases ------------------------------------------------------------------------------
    /** May this pod install now? The first Hold returned keeps it Pending with that reason (the install gate). */
    holdInstall: new AsyncSeriesBailHook<[V1Pod, InstallContext], Hold | undefined>(['pod', 'context']),
    beforeInstall: new AsyncSeriesHook<[ModuleEvent]>(['module']),
    afterInstall: new AsyncSeriesHook<[ModuleEvent]>(['module']),
    installFailed: new AsyncSeriesHook<[ModuleEvent]>(['module']),
    beforeUninstall: new AsyncSeriesHook<[ModuleEvent]>(['module']),
    afterUninstall: new AsyncSeriesHook<[ModuleEvent]>(['module']),
    /** The status kmc writes for a module pod, computed from the base's report: plugins refine it. */
    podStatus: new SyncWaterfallHook<[V1PodStatus, V1Pod, PodModuleReport]>(['status', 'pod', 'report']),

    // ---- rollout: batched releases of Deployments ------------------------------------------------------------
    rolloutStarted: new AsyncSeriesHook<[RolloutView]>(['rollout']),
    rolloutCompleted: new AsyncSeriesHook<[RolloutView]>(['rollout']),
    rolloutAborted: new AsyncSeriesHook<[RolloutView]>(['rollout']),
    rolloutSuperseded: new AsyncSeriesHook<[RolloutView]>(['rollout']),
    /** The cumulative batch targets of a rollout; the default is one batch of all replicas. */
    planBatches: new SyncWaterfallHook<[Plan, RolloutView]>(['plan', 'rollout']),
    /** May the next batch start? The first Hold returned keeps it waiting (gray time, confirmation, ...). */
    holdBatch: new AsyncSeriesBailHook<[Batch, RolloutView], Hold | undefined>(['batch', 'rollout']),
    batchStarted: new AsyncSeriesHook<[Batch, RolloutView]>(['batch', 'rollout']),
    batchCompleted: new AsyncSeriesHook<[Batch, RolloutView]>(['batch', 'rollout']),
    /** Extra completion rule: return false to keep a batch open although its target is reached. */
    isBatchComplete: new AsyncSeriesBailHook<[Batch, RolloutView], boolean | undefined>(['batch', 'rollout']),
    /** The replicas a Deployment should have (the peer replica syncer follows matching bases). */
    desiredReplicas: new AsyncSeriesWaterfallHook<[number, V1Deployment]>(['replicas', 'deployment']),

    // ---- scheduling (the scheduler plugin) -------------------------------------------------------------------
    /**
     * The bases a pod may go to, after the built-in filters: return a subset to rule bases out (a base a tap
     * adds is ignored, so the cap and the pod's own rules always hold).
     */
    filterNodes: new SyncWaterfallHook<[NodeCandidate[], V1Pod]>(['candidates', 'pod']),
    /** The candidates with the policy's scores: change the scores to change the choice (the highest wins). */
    scoreNodes: new SyncWaterfallHook<[ScoredNode[], V1Pod]>(['scored', 'pod']),
  };
  for (const [name, hook] of Object.entries(hooks)) attributeErrors(name, hook);
  return Object.freeze(hooks);
}

export type Hooks = ReturnType<typeof createHooks>;
export type HookName = keyof Hooks;

interface RegisteredTap {
  name: string;
  type: 'sync' | 'async' | 'promise';
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- tapable's own type for tap functions
  fn: Function;
}
interface InterceptableHook {
  intercept(interceptor: { register: (tap: RegisteredTap) => RegisteredTap }): void;
}

/** Wraps every tap so a throw or rejection becomes a PluginError that names the plugin and the hook. */
function attributeErrors(hookName: string, hook: InterceptableHook): void {
  hook.intercept({
    register: (tap) => {
      const fn = tap.fn as (...args: unknown[]) => unknown;
      const plugin = tap.name;
      if (tap.type === 'promise') {
        tap.fn = async (...args: unknown[]) => {
          try {
            return await fn(...args);
          } catch (error) {
            throw asPluginError(plugin, hookName, error);
          }
        };
      } else if (tap.type === 'async') {
        tap.fn = (...args: unknown[]) => {
          const callback = args.pop() as (error?: unknown, result?: unknown) => void;
          try {
            fn(...args, (error?: unknown, result?: unknown) => {
              callback(error ? asPluginError(plugin, hookName, error) : error, result);
            });
          } catch (error) {
            callback(asPluginError(plugin, hookName, error));
          }
        };
      } else {
        tap.fn = (...args: unknown[]) => {
          try {
            return fn(...args);
          } catch (error) {
            throw asPluginError(plugin, hookName, error);
          }
        };
      }
      return tap;
    },
  });
}

function asPluginError(plugin: string, hook: string, error: unknown): PluginError {
  return error instanceof PluginError ? error : new PluginError(plugin, hook, error);
}
