import type { V1Deployment, V1ObjectMeta, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { describeError } from '../../errors.ts';
import { kubeFailure } from '../../kube/kube-errors.ts';
import { isModulePod } from '../../module/module-pod.ts';
import { replicaSetsOf } from '../../rollout/deployment-revisions.ts';
import type { ModuleRollout } from '../../rollout/module-rollout.ts';
import { CliError, Cluster, type ClusterOptions } from './cluster.ts';
import { loadPlanConfig, type PlanConfig } from './plan-config.ts';
import { appliedDeployment } from './applied-deployment.ts';
import { planModel } from './plan-model.ts';
import type { PlanModel } from './plan-types.ts';
import { renderPlan } from './plan-render.ts';

export interface PlanOptions {
  /** A manifest to plan as the Deployment's next revision (`-` for stdin). */
  readonly file?: string;
  readonly output?: 'json' | 'yaml';
  /** The kmc config file; default: the same search `kmc run` does. */
  readonly config?: string;
}

/**
 * `plan <deployment> [-f manifest] [--config file] [-o json|yaml]`: a dry run of the rollout the controller would
 * run — read-only, except for a server-side dry run of the manifest (nothing is persisted) that gives its
 * template the API server's defaults, so it compares with the ReplicaSets as the Deployment controller compares.
 */
export async function planCommand(
  clusterOptions: ClusterOptions,
  name: string,
  options: PlanOptions,
  write: (text: string) => void,
): Promise<number> {
  const config = await loadConfigForPlan(options.config);
  const manifest = options.file ? await readManifest(options.file, name) : undefined;
  const manifestNamespace = manifest?.metadata?.namespace;
  if (manifestNamespace && clusterOptions.namespace && manifestNamespace !== clusterOptions.namespace)
    throw new CliError(
      `the manifest's namespace (${manifestNamespace}) does not match -n ${clusterOptions.namespace}`,
      2,
    );
  const cluster = new Cluster({
    ...clusterOptions,
    ...(manifestNamespace ? { namespace: manifestNamespace } : {}),
  });
  const model = await readPlan(cluster, name, manifest, options.file, config);
  write(
    options.output === 'json'
      ? JSON.stringify(model, null, 2)
      : options.output === 'yaml'
        ? stringify(model).trimEnd()
        : renderPlan(model),
  );
  return 0;
}

async function loadConfigForPlan(file: string | undefined): Promise<PlanConfig> {
  try {
    return await loadPlanConfig(file);
  } catch (error) {
    throw new CliError(describeError(error), 2);
  }
}

/** The Deployment of that name in a manifest file (several documents allowed). */
export async function readManifest(file: string, name: string): Promise<V1Deployment> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${describeError(error)}`, 2);
  }
  const documents = parseAllDocuments(text);
  const objects: unknown[] = [];
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    if (document.errors.length > 0)
      throw new CliError(`${file} is not valid YAML: ${document.errors[0]?.message ?? ''}`, 2);
    objects.push(document.toJS());
  }
  const deployments = objects.filter(
    (o): o is V1Deployment =>
      typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'Deployment',
  );
  const named = deployments.find((d) => d.metadata?.name === name);
  if (named) return named;
  throw new CliError(
    deployments.length > 0
      ? `${file} has no Deployment named ${name} (it has ${deployments.map((d) => d.metadata?.name ?? '?').join(', ')})`
      : `${file} has no Deployment`,
    2,
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Everything the plan needs, read in one go. */
export async function readPlan(
  cluster: Cluster,
  name: string,
  manifest: V1Deployment | undefined,
  source: string | undefined,
  config: PlanConfig,
): Promise<PlanModel> {
  const namespace = cluster.namespace;
  const current = await cluster
    .call(`read deployment ${namespace}/${name}`, () =>
      cluster.apps.readNamespacedDeployment({ name, namespace }),
    )
    .catch((error: unknown) => {
      if (kubeFailure(error)?.code === 404) return undefined;
      throw error;
    });
  if (!current && !manifest)
    throw new CliError(
      `deployment "${name}" not found in namespace "${namespace}" (use -n to pick another namespace, or -f to ` +
        'plan a first install)',
    );
  const nodes = cluster.call('list nodes', () =>
    cluster.core.listNode({ labelSelector: 'type=virtual-kubelet' }),
  );
  let replicaSets: V1ReplicaSet[] = [];
  let pods: V1Pod[] = [];
  let rollouts: ModuleRollout[] = [];
  let crdMissing = false;
  if (current) {
    const [sets, podList, found] = await Promise.all([
      cluster.call('list replicasets', () => cluster.apps.listNamespacedReplicaSet({ namespace })),
      cluster.call('list pods', () =>
        cluster.core.listNamespacedPod({ namespace, labelSelector: selectorOf(current) }),
      ),
      cluster.rollouts(name).catch((error: unknown) => {
        if (error instanceof CliError && /CRD is not installed/.test(error.message)) {
          crdMissing = true;
          return [];
        }
        throw error;
      }),
    ]);
    replicaSets = replicaSetsOf(current, sets.items);
    const owned = new Set(replicaSets.map((rs) => rs.metadata?.uid));
    pods = podList.items.filter((p) =>
      p.metadata?.ownerReferences?.some((ref) => ref.controller && owned.has(ref.uid)),
    );
    rollouts = found;
  }
  let next = current;
  let defaulted = true;
  if (manifest) {
    const body = appliedDeployment(current, {
      ...manifest,
      metadata: { ...manifest.metadata, namespace, name },
    });
    const dry = await dryRun(cluster, body, current !== undefined, source ?? 'the manifest');
    next = dry ?? body;
    defaulted = dry !== undefined;
  }
  if (!next) throw new CliError(`deployment "${name}" not found in namespace "${namespace}"`);
  if (!isModulePod({ metadata: { labels: next.spec?.template.metadata?.labels ?? {} } }))
    throw new CliError(
      `deployment ${namespace}/${name} is not a module Deployment: its pod template lacks the label ` +
        'module-controller.koupleless.io/component: module',
    );
  return planModel({
    namespace,
    name,
    current,
    next,
    subject: manifest ? 'manifest' : 'deployment',
    defaulted,
    replicaSets,
    rollouts,
    crdMissing,
    pods,
    nodes: (await nodes).items,
    config,
    now: Date.now(),
  });
}

/**
 * The manifest as the API server would store it (defaults filled in, validated), without storing it; undefined
 * when this user may not even dry-run an update (templates are then compared by their modules).
 */
async function dryRun(
  cluster: Cluster,
  body: V1Deployment,
  exists: boolean,
  source: string,
): Promise<V1Deployment | undefined> {
  const namespace = cluster.namespace;
  const name = body.metadata?.name ?? '';
  // An unconditional replace: the plan is of the manifest, whatever the Deployment's current version.
  const metadata: V1ObjectMeta = Object.fromEntries(
    Object.entries(body.metadata ?? {}).filter(([key]) => key !== 'resourceVersion'),
  );
  const request = () =>
    exists
      ? cluster.apps.replaceNamespacedDeployment({
          name,
          namespace,
          body: { ...body, metadata },
          dryRun: 'All',
          fieldValidation: 'Strict',
        })
      : cluster.apps.createNamespacedDeployment({
          namespace,
          body: { ...body, metadata },
          dryRun: 'All',
          fieldValidation: 'Strict',
        });
  try {
    return await request();
  } catch (error) {
    const failure = kubeFailure(error);
    if (failure?.code === 403) return undefined;
    if (failure) throw new CliError(`the API server would reject ${source}: ${failure.message}`);
    // No route to the cluster and the like: the same friendly error as every other call.
    return cluster.call(`dry-run ${source}`, () => Promise.reject(error as Error));
  }
}

function selectorOf(deployment: V1Deployment): string {
  return Object.entries(deployment.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
