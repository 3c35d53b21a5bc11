import { mergePatch } from '../../kube/patch-options.ts';
import { isTerminal, rolloutName, type ModuleRollout } from '../../rollout/module-rollout.ts';
import { CliError, observedRevision, type Cluster } from './cluster.ts';

/** The ModuleRollout of the Deployment's latest observed revision, which must still be running. */
async function runningRollout(cluster: Cluster, name: string): Promise<ModuleRollout> {
  const deployment = await cluster.deployment(name);
  const revision = observedRevision(deployment);
  if (revision === undefined)
    throw new CliError(
      `deployment ${cluster.namespace}/${name}: the Deployment controller has not observed its latest spec yet; try again`,
    );
  const rollout = await cluster.rollout(name, revision);
  if (!rollout)
    throw new CliError(
      `no ModuleRollout ${rolloutName(name, revision)}: is kmc running with its rollout engine for this namespace?`,
    );
  if (isTerminal(rollout.status?.phase))
    throw new CliError(
      `${rolloutName(name, revision)} is ${rollout.status?.phase ?? ''}: nothing to act on (apply a new version to start a rollout)`,
    );
  return rollout;
}

/**
 * `confirm <deployment> [--batch n]`: lets batch n (default: the batch awaiting a confirmation) and every batch
 * before it start, by writing `spec.confirmedBatch` on the current rollout's own object.
 */
export async function confirmCommand(
  cluster: Cluster,
  name: string,
  batch: number | undefined,
  write: (text: string) => void,
): Promise<void> {
  const rollout = await runningRollout(cluster, name);
  const rolloutObject = rollout.metadata?.name ?? '';
  const status = rollout.status ?? {};
  const plan = status.plan ?? [];
  const confirmed = rollout.spec.confirmedBatch ?? 0;
  const awaited = status.hold?.reason === 'AwaitingConfirmation' ? status.hold.batch : undefined;
  const target = batch ?? awaited;
  if (target === undefined)
    throw new CliError(
      `${rolloutObject} awaits no confirmation (${status.phase ?? 'Pending'}` +
        `${status.hold ? `, holding: ${status.hold.reason}` : ''}); to confirm ahead, name the batch: --batch <n>`,
    );
  if (!Number.isInteger(target) || target < 1 || (plan.length > 0 && target > plan.length))
    throw new CliError(
      `--batch must be between 1 and ${String(plan.length)} (the plan is ${plan.join(', ')})`,
      2,
    );
  if (target <= confirmed) {
    write(
      `${rolloutObject}: batch ${String(target)} is already confirmed (confirmedBatch ${String(confirmed)})`,
    );
    return;
  }
  await cluster.patchRolloutSpec(rolloutObject, { confirmedBatch: target });
  write(`${rolloutObject}: confirmed up to batch ${String(target)} of ${String(plan.length)}`);
}

/** `abort <deployment>`: back to the stable revision; kmc restores its template in one patch. */
export async function abortCommand(
  cluster: Cluster,
  name: string,
  write: (text: string) => void,
): Promise<void> {
  const rollout = await runningRollout(cluster, name);
  const stable = rollout.status?.stableRevision;
  if (stable === undefined)
    throw new CliError(
      `${rollout.metadata?.name ?? ''} is a first install: there is no earlier revision to go back to (kubectl delete deployment/${name} takes it offline)`,
    );
  await cluster.patchRolloutSpec(rollout.metadata?.name ?? '', { abort: true });
  write(
    `${rollout.metadata?.name ?? ''}: abort requested: kmc puts revision ${String(stable)}'s template back ` +
      `(follow it: kubectl koupleless status ${name} -w)`,
  );
}

/** `pause` / `resume <deployment>`: the Deployment's own `spec.paused`, as `kubectl rollout pause|resume`. */
export async function setPaused(
  cluster: Cluster,
  name: string,
  paused: boolean,
  write: (text: string) => void,
): Promise<void> {
  const deployment = await cluster.deployment(name);
  if ((deployment.spec?.paused === true) === paused) {
    write(`deployment ${cluster.namespace}/${name} is already ${paused ? 'paused' : 'not paused'}`);
    return;
  }
  await cluster.call(`patch deployment ${cluster.namespace}/${name}`, () =>
    cluster.apps.patchNamespacedDeployment(
      { name, namespace: cluster.namespace, body: { spec: { paused } } },
      mergePatch(),
    ),
  );
  write(
    paused
      ? `deployment ${cluster.namespace}/${name} paused: no further batch starts; the batch in progress finishes`
      : `deployment ${cluster.namespace}/${name} resumed`,
  );
}
