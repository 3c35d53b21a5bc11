/**
 * What a simulated base is (identity, metadata) and how it behaves (SOFAArk activation mode, latencies,
 * failures, statically merged modules, health figures), with the defaults of a stock arklet base.
 */
import type { JavaDouble } from '../tunnel/protocol/fastjson.ts';

/**
 * What happens to an ACTIVATED version of a biz name when another version of that name finishes installing
 * (koupleless-protocol.md §4.7):
 * - `multi-version`: both stay ACTIVATED (`sofa.ark.activate.multi.biz.version.enable=true`);
 * - `switch`: the new one is ACTIVATED, the old one DEACTIVATED with reason SWITCHED (`activate.new.module=true`);
 * - `install-deactivated`: the new one stays DEACTIVATED while the old one keeps running (neither set).
 */
export type ActivationMode = 'multi-version' | 'switch' | 'install-deactivated';

/** A biz as the simulated base knows it. */
export interface ModuleSpec {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl?: string;
  /** Default: the biz name, as SOFAArk web bizs use. */
  readonly webContextPath?: string;
  /** Default: `com.example.<BizName>Application`. */
  readonly mainClass?: string;
}

/** Installs of this biz (every version unless `bizVersion` is given) fail as a biz whose start throws. */
export interface FailingInstall {
  readonly bizName: string;
  readonly bizVersion?: string;
  /** The failure text reported to the controller. */
  readonly message?: string;
}

export type HealthFigure = number | string | JavaDouble;

/** `jvm` and `cpu` sections of the health reply, written as given (keys are sorted on the wire). */
export interface HealthFigures {
  readonly jvm: Readonly<Record<string, HealthFigure>>;
  readonly cpu: Readonly<Record<string, HealthFigure>>;
}

/** The figures of the golden health reply (protocol-examples/base-health.json). */
export const DEFAULT_HEALTH_FIGURES: HealthFigures = {
  jvm: {
    'java committed metaspace': 83886080,
    'java max metaspace': 268435456,
    'java used metaspace': 80000000,
    'java version': '17.0.15',
    'max heap memory(M)': 885.5,
    'run time(s)': 34.4,
    'used heap memory(M)': 137.1,
  },
  cpu: {
    count: 4,
    'free (%)': 81.4,
    'system used (%)': 6.2,
    'total used (%)': 18.6,
    type: 'Intel',
    'user used (%)': 9.9,
  },
};

/** Who the base is. A restart with a new identity changes these. */
export interface BaseIdentity {
  /** baseID in topics, client id and metadata. */
  readonly identity: string;
  readonly localIP: string;
  readonly hostname: string;
}

/** Per-process behaviour of the base. */
export interface BaseBehaviour {
  /** `baseMetadata.name`; also the master biz name. */
  readonly name: string;
  readonly version: string;
  readonly clusterName: string;
  readonly activationMode: ActivationMode;
  /**
   * SOFAArk `sofa.ark.auto.uninstall.when.failed.enable`. Off by default, as in the sample base image, so a
   * failed biz stays BROKEN with its reason visible; on, it is removed after the failure.
   */
  readonly autoUninstallWhenFailed: boolean;
  /** False models SOFAArk versions without state records: `latestStateRecord` is then always null. */
  readonly recordStateChanges: boolean;
  /** Time each install takes, the biz being RESOLVED meanwhile. */
  readonly installLatencyMs:
    number | ((biz: { readonly bizName: string; readonly bizVersion: string }) => number);
  readonly uninstallLatencyMs: number;
  readonly failingInstalls: readonly FailingInstall[];
  /** Bizs merged into the base: ACTIVATED from process start, never installed by a controller. */
  readonly staticModules: readonly ModuleSpec[];
  readonly health: HealthFigures;
  /** Metaspace growth reported as `elapsedSpace` per successful install. */
  readonly elapsedSpacePerInstall: number;
}

export type BaseModelConfig = BaseIdentity & BaseBehaviour;

export const DEFAULT_BEHAVIOUR: BaseBehaviour = {
  name: 'base',
  version: '1.0.0',
  clusterName: 'default',
  activationMode: 'multi-version',
  autoUninstallWhenFailed: false,
  recordStateChanges: true,
  installLatencyMs: 0,
  uninstallLatencyMs: 0,
  failingInstalls: [],
  staticModules: [],
  health: DEFAULT_HEALTH_FIGURES,
  elapsedSpacePerInstall: 2 * 1024 * 1024,
};

/** `com.example.Biz1Application` for `biz1`, `com.example.OrderServiceApplication` for `order-service`. */
export function defaultMainClass(bizName: string): string {
  const pascal = bizName
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `com.example.${pascal}Application`;
}

export function installLatencyFor(behaviour: BaseBehaviour, bizName: string, bizVersion: string): number {
  const latency = behaviour.installLatencyMs;
  return typeof latency === 'function' ? latency({ bizName, bizVersion }) : latency;
}

export function failureFor(
  behaviour: BaseBehaviour,
  bizName: string,
  bizVersion: string,
): FailingInstall | undefined {
  return behaviour.failingInstalls.find(
    (failing) =>
      failing.bizName === bizName && (failing.bizVersion === undefined || failing.bizVersion === bizVersion),
  );
}
