import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { replicaSetsOf } from '../../rollout/deployment-revisions.ts';
import { isTerminal, rolloutName, type ModuleRollout } from '../../rollout/module-rollout.ts';
import { CliError, observedRevision, type Cluster } from './cluster.ts';
import { statusModel, type StatusModel } from './status-model.ts';
import { formatDuration, renderStatus } from './status-render.ts';

export interface StatusOptions {
  readonly watch?: boolean;
  readonly wait?: boolean;
  /** Seconds, for --wait. */
  readonly timeout?: number;
  readonly output?: 'json' | 'yaml';
  readonly intervalMs?: number;
}

/** Everything status needs, read in one go. */
export async function readStatus(cluster: Cluster, name: string): Promise<StatusModel> {
  const deployment = await cluster.deployment(name);
  const revision = observedRevision(deployment);
  const namespace = cluster.namespace;
  const [rollout, replicaSets, pods, nodes] = await Promise.all([
    revision !== undefined ? cluster.rollout(name, revision) : Promise.resolve(undefined),
    cluster.call('list replicasets', () => cluster.apps.listNamespacedReplicaSet({ namespace })),
    cluster.call('list pods', () =>
      cluster.core.listNamespacedPod({ namespace, labelSelector: selectorOf(deployment) }),
    ),
    cluster.call('list nodes', () => cluster.core.listNode({ labelSelector: 'type=virtual-kubelet' })),
  ]);
  const sets = replicaSetsOf(deployment, replicaSets.items);
  const owned = new Set(sets.map((rs) => rs.metadata?.uid));
  return statusModel({
    deployment,
    revision,
    rollout,
    replicaSets: sets,
    pods: pods.items.filter((p: V1Pod) =>
      p.metadata?.ownerReferences?.some((ref) => ref.controller && owned.has(ref.uid)),
    ),
    nodes: nodes.items,
    now: Date.now(),
  });
}

function selectorOf(deployment: V1Deployment): string {
  return Object.entries(deployment.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function print(model: StatusModel, output: StatusOptions['output']): string {
  if (output === 'json') return JSON.stringify(model, null, 2);
  if (output === 'yaml') return stringify(model).trimEnd();
  return renderStatus(model, Date.now());
}

/** The model without what changes every second, to tell whether anything happened. */
function fingerprint(model: StatusModel): string {
  return JSON.stringify({
    ...model,
    progressDeadlineLeftMs: undefined,
    rollout: model.rollout ? { ...model.rollout, hold: model.rollout.hold?.reason } : undefined,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `status <deployment> [-w] [-o json|yaml]`, or `--wait` for the current revision's rollout to end. */
export async function statusCommand(
  cluster: Cluster,
  name: string,
  options: StatusOptions,
  write: (text: string) => void,
): Promise<number> {
  if (options.wait) return waitForRollout(cluster, name, options, write);
  const interval = options.intervalMs ?? 1_000;
  let model = await readStatus(cluster, name);
  write(print(model, options.output));
  if (!options.watch) return 0;
  const tty = process.stdout.isTTY && !options.output;
  let last = fingerprint(model);
  while (!model.done) {
    await sleep(interval);
    model = await readStatus(cluster, name);
    const now = fingerprint(model);
    // A terminal redraws in place; a pipe gets a new block only when something changed.
    if (tty) write(`\x1b[2J\x1b[H${print(model, options.output)}`);
    else if (now !== last) write(`\n${print(model, options.output)}`);
    last = now;
  }
  return 0;
}

/**
 * Waits for the rollout of the Deployment's latest spec — never a stale one: first until the Deployment
 * controller has observed the spec, then for that revision's ModuleRollout, then for its end. The revision is
 * fixed once observed: 0 when its rollout Completed; 1 when it was aborted or superseded (a later apply, an
 * undo), or the time ran out.
 */
async function waitForRollout(
  cluster: Cluster,
  name: string,
  options: StatusOptions,
  write: (text: string) => void,
): Promise<number> {
  const deadline = Date.now() + (options.timeout ?? 600) * 1000;
  const interval = options.intervalMs ?? 1_000;
  let said = '';
  const say = (text: string) => {
    if (text !== said) write(text);
    said = text;
  };
  let revision: number | undefined;
  let rollout: ModuleRollout | undefined;
  for (;;) {
    if (revision === undefined) {
      const deployment = await cluster.deployment(name);
      revision = observedRevision(deployment);
      if (revision === undefined)
        say(
          `waiting for the Deployment controller to observe generation ${String(deployment.metadata?.generation ?? 0)}`,
        );
    }
    if (revision !== undefined) {
      rollout = await cluster.rollout(name, revision);
      const status = rollout?.status;
      if (!rollout || !status) {
        say(`waiting for ModuleRollout ${rolloutName(name, revision)}`);
      } else {
        const hold = status.hold
          ? `, holding: ${status.hold.reason} before batch ${String(status.hold.batch)}`
          : '';
        say(
          `${rolloutName(name, revision)}: ${status.phase ?? 'Pending'}, batch ${String(status.currentBatch ?? 0)}/${String(status.plan?.length ?? 0)}${hold}`,
        );
        if (isTerminal(status.phase)) {
          if (status.phase === 'Completed') return 0;
          write(
            `${rolloutName(name, revision)} ended ${status.phase ?? ''}: ${status.message ?? ''}`.trimEnd(),
          );
          return 1;
        }
      }
    }
    if (Date.now() >= deadline) {
      throw new CliError(
        `timed out after ${formatDuration((options.timeout ?? 600) * 1000)} waiting for deployment ${cluster.namespace}/${name}` +
          (rollout?.status?.hold
            ? ` (holding: ${rollout.status.hold.reason}: ${rollout.status.hold.message})`
            : ''),
      );
    }
    await sleep(interval);
  }
}
