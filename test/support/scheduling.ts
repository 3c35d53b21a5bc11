import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { kubectl } from './kube.ts';
import { exampleManifest, renameModule, toYaml, type ModuleWorkload } from './manifests.ts';
import { waitFor } from './wait-for.ts';
import { recordWatch, type WatchRecorder } from './watch-recorder.ts';
import { isReady, versionOf } from './pods.ts';

/** Helpers of the scheduling e2e tests (test/e2e/scheduler-*.test.ts). */

export interface DeploymentOptions {
  /** Base names (label base.koupleless.io/name) the pods may go to. */
  readonly baseNames: readonly string[];
  /** Base versions allowed (default 1.0.0). */
  readonly baseVersions?: readonly string[];
  readonly replicas?: number;
  readonly version?: string;
  /** spec.schedulerName of the pods (default: the default scheduler). */
  readonly schedulerName?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Keep the example's per-base anti-affinity (default true). */
  readonly antiAffinity?: boolean;
  readonly rollingUpdate?: { readonly maxSurge: number; readonly maxUnavailable: number };
}

/** The corrected example Deployment, for module `name`, pointed at the given bases. */
export async function moduleDeployment(name: string, options: DeploymentOptions): Promise<ModuleWorkload> {
  const manifest = renameModule(
    await exampleManifest<ModuleWorkload>('module-deployment.yaml'),
    name,
    options.version ?? '0.0.1',
  );
  manifest.spec.replicas = options.replicas ?? 1;
  const spec = manifest.spec.template.spec as ModuleWorkload['spec']['template']['spec'] & {
    schedulerName?: string;
    affinity?: { podAntiAffinity?: unknown };
  };
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms ?? []) {
    for (const expression of term.matchExpressions ?? []) {
      if (expression.key === 'base.koupleless.io/name') expression.values = [...options.baseNames];
      if (expression.key === 'base.koupleless.io/version')
        expression.values = [...(options.baseVersions ?? ['1.0.0'])];
    }
  }
  if (options.schedulerName) spec.schedulerName = options.schedulerName;
  if (options.antiAffinity === false && spec.affinity) delete spec.affinity.podAntiAffinity;
  if (options.annotations) manifest.metadata.annotations = { ...options.annotations };
  if (options.rollingUpdate)
    manifest.spec['strategy'] = { type: 'RollingUpdate', rollingUpdate: { ...options.rollingUpdate } };
  return manifest;
}

export async function apply(namespace: string, manifests: readonly unknown[]): Promise<void> {
  const result = await kubectl(['apply', '-n', namespace, '-f', '-'], {
    stdin: manifests.map((m) => toYaml(m)).join('---\n'),
  });
  expect(result.stderr).toBe('');
}

/** Module pods of the namespace (not being deleted), optionally of one app label. */
export async function modulePods(kc: KubeConfig, namespace: string, app?: string): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedPod({
    namespace,
    labelSelector: app ? `app=${app}` : 'module-controller.koupleless.io/component=module',
  });
  return list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
}

/** Waits until `count` module pods are Ready (and none is left pending); returns them. */
export async function readyPods(
  kc: KubeConfig,
  namespace: string,
  count: number,
  options: { app?: string; version?: string; timeoutMs?: number } = {},
): Promise<V1Pod[]> {
  return waitFor(
    async () => {
      const pods = (await modulePods(kc, namespace, options.app)).filter(
        (pod) => pod.status?.phase !== 'Failed',
      );
      const ok =
        pods.length === count &&
        pods.every(
          (pod) => isReady(pod) && (options.version === undefined || versionOf(pod) === options.version),
        );
      if (ok) return pods;
      throw new Error(
        pods
          .map((p) => `${p.metadata?.name ?? ''}@${p.spec?.nodeName ?? '-'}:${String(isReady(p))}`)
          .join(' '),
      );
    },
    {
      description: `${String(count)} Ready module pods${options.version ? ` at ${options.version}` : ''}`,
      timeoutMs: options.timeoutMs ?? 90_000,
    },
  );
}

/** Pods per node, for the given nodes in order. */
export function countByNode(pods: readonly V1Pod[], nodes: readonly string[]): number[] {
  return nodes.map((node) => pods.filter((pod) => pod.spec?.nodeName === node).length);
}

/** Deletes every Deployment of the namespace and waits until none of their pods is left. */
/**
 * Deletes every Deployment of the namespace and waits until their module pods are gone from the API — and, given
 * `cacheEmpty`, until the controller's own pod cache shows them gone too: a placement right after must not count
 * pods already deleted (an informer can lag behind the API, most of all across a watch restart).
 */
export async function deleteDeployments(
  kc: KubeConfig,
  namespace: string,
  cacheEmpty?: () => boolean,
): Promise<void> {
  await kubectl(['delete', 'deployments', '--all', '-n', namespace, '--wait=false']);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    async () =>
      (
        await core.listNamespacedPod({
          namespace,
          labelSelector: 'module-controller.koupleless.io/component=module',
        })
      ).items.length === 0 &&
      (cacheEmpty?.() ?? true),
    { description: 'every module pod gone', timeoutMs: 90_000 },
  );
}

/** Events of one pod (or of every object of the namespace), newest last. */
export async function eventsOf(kc: KubeConfig, namespace: string, pod?: string): Promise<CoreV1Event[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedEvent({
    namespace,
    ...(pod ? { fieldSelector: `involvedObject.name=${pod}` } : {}),
  });
  return list.items;
}

/**
 * Records every version of the namespace's pods, to check the cap at every instant: the largest number of
 * non-terminal pods any node held at once, by node.
 */
export async function recordPods(kc: KubeConfig, namespace: string): Promise<WatchRecorder<V1Pod>> {
  const core = kc.makeApiClient(CoreV1Api);
  return recordWatch<V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () =>
    core.listNamespacedPod({ namespace }),
  );
}

/**
 * The most pods bound to each node at any instant of the recording, counting a pod from its first version bound
 * there until a version shows it terminal (a deleting pod still holds its slot). Deletions themselves are not
 * recorded, so use it over a stretch in which no pod is deleted.
 */
export function peakPerNode(recorder: WatchRecorder<V1Pod>): Map<string, number> {
  const where = new Map<string, string>();
  const peak = new Map<string, number>();
  for (const pod of recorder.versions) {
    const uid = pod.metadata?.uid ?? '';
    const gone = pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
    if (gone || !pod.spec?.nodeName) where.delete(uid);
    else where.set(uid, pod.spec.nodeName);
    const counts = new Map<string, number>();
    for (const node of where.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
    for (const [node, count] of counts) peak.set(node, Math.max(peak.get(node) ?? 0, count));
  }
  return peak;
}

/** A bare module pod of `bizName:0.0.1` for the bases named `baseName` (tolerating the virtual-node taint). */
export function barePod(
  name: string,
  options: { baseName?: string; schedulerName?: string; tolerate?: boolean; bizName?: string } = {},
): V1Pod {
  const bizName = options.bizName ?? name;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'module-controller.koupleless.io/component': 'module', app: name } },
    spec: {
      ...(options.schedulerName ? { schedulerName: options.schedulerName } : {}),
      ...(options.baseName ? { nodeSelector: { 'base.koupleless.io/name': options.baseName } } : {}),
      containers: [
        {
          name: bizName,
          image: `https://example.invalid/modules/${bizName}-0.0.1-ark-biz.jar`,
          env: [{ name: 'BIZ_VERSION', value: '0.0.1' }],
        },
      ],
      tolerations:
        options.tolerate === false
          ? []
          : [
              {
                key: 'schedule.koupleless.io/virtual-node',
                operator: 'Equal',
                value: 'True',
                effect: 'NoExecute',
              },
            ],
    },
  };
}

/**
 * Waits until the nodes are Ready and carry no taint but kmc's own: a node that just came up keeps the
 * node-lifecycle controller's not-ready taint for a moment after kmc reports it Ready, and a placement test that
 * starts before would see one base fewer.
 */
export async function schedulable(kc: KubeConfig, nodes: readonly string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      for (const name of nodes) {
        const node = await core.readNode({ name });
        const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        const foreign = (node.spec?.taints ?? []).filter(
          (t) => t.key !== 'schedule.koupleless.io/virtual-node',
        );
        if (!ready || foreign.length > 0) return false;
      }
      return true;
    },
    { description: `nodes ${nodes.join(', ')} Ready and untainted`, timeoutMs: 60_000 },
  );
}
