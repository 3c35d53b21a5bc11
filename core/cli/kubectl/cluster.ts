import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { kubeFailure } from '../../kube/kube-errors.ts';
import { mergePatch } from '../../kube/patch-options.ts';
import { isModulePod } from '../../module/module-pod.ts';
import { REVISION_ANNOTATION } from '../../rollout/deployment-revisions.ts';
import {
  DEPLOYMENT_LABEL,
  ROLLOUT_GROUP,
  ROLLOUT_PLURAL,
  ROLLOUT_VERSION,
  rolloutName,
  type ModuleRollout,
} from '../../rollout/module-rollout.ts';

/** A failure the user can act on: printed without a stack, exit code 1 (or 2 for usage). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The global options every command takes, as kubectl passes them on (kubectl itself passes none to plugins). */
export interface ClusterOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

/** The cluster a command talks to, and the namespace it works in. */
export class Cluster {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;

  constructor(options: ClusterOptions) {
    const kc = new KubeConfig();
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (options.context) {
      if (!kc.getContextObject(options.context))
        throw new CliError(`no context "${options.context}" in the kubeconfig`, 2);
      kc.setCurrentContext(options.context);
    }
    if (!kc.getCurrentCluster())
      throw new CliError('no Kubernetes cluster configured: set KUBECONFIG or pass --kubeconfig', 2);
    this.kc = kc;
    // As kubectl: -n, else the context's namespace, else default.
    this.namespace = options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  /** The Deployment, or a CliError that says what is wrong (absent, not a module Deployment, cluster unreachable). */
  async deployment(name: string): Promise<V1Deployment> {
    const deployment = await this.call(`read deployment ${this.namespace}/${name}`, () =>
      this.apps.readNamespacedDeployment({ name, namespace: this.namespace }),
    ).catch((error: unknown) => {
      if (kubeFailure(error)?.code === 404)
        throw new CliError(
          `deployment "${name}" not found in namespace "${this.namespace}" (use -n to pick another namespace)`,
        );
      throw error;
    });
    if (!isModulePod({ metadata: { labels: deployment.spec?.template.metadata?.labels ?? {} } }))
      throw new CliError(
        `deployment ${this.namespace}/${name} is not a module Deployment: its pod template lacks the label ` +
          'module-controller.koupleless.io/component: module',
      );
    return deployment;
  }

  /** The ModuleRollout of a revision, or undefined. */
  async rollout(deployment: string, revision: number): Promise<ModuleRollout | undefined> {
    return this.call(
      `read modulerollout ${rolloutName(deployment, revision)}`,
      () =>
        this.custom.getNamespacedCustomObject({
          group: ROLLOUT_GROUP,
          version: ROLLOUT_VERSION,
          plural: ROLLOUT_PLURAL,
          namespace: this.namespace,
          name: rolloutName(deployment, revision),
        }) as Promise<ModuleRollout>,
    ).catch((error: unknown) => {
      if (kubeFailure(error)?.code === 404) return undefined;
      throw error;
    });
  }

  /** Every ModuleRollout of a Deployment, newest revision first. */
  async rollouts(deployment: string): Promise<ModuleRollout[]> {
    const list = (await this.call('list modulerollouts', () =>
      this.custom.listNamespacedCustomObject({
        group: ROLLOUT_GROUP,
        version: ROLLOUT_VERSION,
        plural: ROLLOUT_PLURAL,
        namespace: this.namespace,
        labelSelector: `${DEPLOYMENT_LABEL}=${deployment}`,
      }),
    )) as { items: ModuleRollout[] };
    return list.items.sort((a, b) => b.spec.revision - a.spec.revision);
  }

  async patchRolloutSpec(name: string, spec: Record<string, unknown>): Promise<ModuleRollout> {
    return (await this.call(`patch modulerollout ${name}`, () =>
      this.custom.patchNamespacedCustomObject(
        {
          group: ROLLOUT_GROUP,
          version: ROLLOUT_VERSION,
          plural: ROLLOUT_PLURAL,
          namespace: this.namespace,
          name,
          body: { spec },
        },
        mergePatch(),
      ),
    )) as ModuleRollout;
  }

  /**
   * Runs an API call, turning what users can fix into a CliError: no route to the cluster, no rights, no CRD.
   * Other API errors pass through unchanged.
   */
  async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const failure = kubeFailure(error);
      if (failure?.code === 403) throw new CliError(`not allowed to ${what}: ${failure.message}`);
      if (failure?.code === 404 && /the server could not find the requested resource/i.test(failure.message))
        throw new CliError(
          `the ModuleRollout CRD is not installed in this cluster: kubectl apply -f examples/deploy/crds/`,
        );
      if (!failure) {
        const server = this.kc.getCurrentCluster()?.server ?? 'the cluster';
        throw new CliError(
          `cannot reach ${server} to ${what}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      throw error;
    }
  }
}

/** The revision a Deployment rolls to, once the Deployment controller has seen its latest spec; else undefined. */
export function observedRevision(deployment: V1Deployment): number | undefined {
  const observed = deployment.status?.observedGeneration ?? 0;
  if (observed < (deployment.metadata?.generation ?? 0)) return undefined;
  const revision = Number(deployment.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(revision) && revision > 0 ? revision : undefined;
}
