import type { BatchLine, PodLine, StatusModel } from './status-model.ts';

/** "1h2m", "3m05s", "42s": kubectl-like ages and timers. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${String(h)}h${String(m)}m`;
  if (m > 0) return `${String(m)}m${String(s).padStart(2, '0')}s`;
  return `${String(s)}s`;
}

const BATCH_MARK: Record<BatchLine['state'], string> = {
  completed: '✔',
  'in progress': '▶',
  holding: '⏸',
  pending: '·',
};

/**
 * The status tree — rollout → batches → pods → bases — as `kubectl koupleless status` prints it. Pure: `now`
 * turns recorded instants into ages.
 */
export function renderStatus(model: StatusModel, now: number): string {
  const out: string[] = [];
  const ago = (iso: string | undefined) => (iso ? `${formatDuration(now - Date.parse(iso))} ago` : '');
  out.push(
    `Deployment ${model.namespace}/${model.deployment}: ${String(model.replicas)} replica${model.replicas === 1 ? '' : 's'}` +
      (model.revision !== undefined
        ? `, revision ${String(model.revision)}`
        : ', revision not observed yet') +
      (model.paused ? ', PAUSED (kubectl koupleless resume)' : ''),
  );
  const rollout = model.rollout;
  if (!rollout) {
    out.push(
      model.revision === undefined
        ? 'ModuleRollout: none yet: the Deployment controller has not observed the latest spec'
        : `ModuleRollout: none for revision ${String(model.revision)} (is kmc running? its rollout engine creates one per revision)`,
    );
  } else {
    const from =
      rollout.stableRevision !== undefined ? ` from revision ${String(rollout.stableRevision)}` : '';
    out.push(
      `ModuleRollout ${rollout.name}: ${rollout.phase} (${rollout.kind}${from}), batch ${String(rollout.currentBatch)}/${String(rollout.plan.length)}, plan ${rollout.plan.join(', ') || '—'}`,
    );
    if (rollout.reason && rollout.phase !== 'Holding')
      out.push(`  ${rollout.reason}: ${rollout.message ?? ''}`);
    const hold = rollout.hold;
    if (hold) {
      const timer =
        hold.recheckInMs !== undefined && hold.recheckInMs > 0
          ? `, ${formatDuration(hold.recheckInMs)} left`
          : '';
      out.push(`  Hold: ${hold.reason} before batch ${String(hold.batch)}, since ${ago(hold.since)}${timer}`);
      out.push(`    ${hold.message}`);
    }
    if (rollout.confirmedBatch > 0) out.push(`  Confirmed up to batch ${String(rollout.confirmedBatch)}`);
  }
  if (model.progressDeadlineLeftMs !== undefined) {
    out.push(
      model.progressDeadlineLeftMs < 0 || rollout?.deadlineExceeded
        ? '  Progress deadline: exceeded (Kubernetes reports ProgressDeadlineExceeded; kmc goes on)'
        : `  Progress deadline: ${formatDuration(model.progressDeadlineLeftMs)} left`,
    );
  }

  const groups: { title: string; pods: readonly PodLine[] }[] = model.batches.map((batch) => ({
    title:
      `${BATCH_MARK[batch.state]} batch ${String(batch.index)}: ${String(batch.size)} pod${batch.size === 1 ? '' : 's'} ` +
      `(up to ${String(batch.target)}), ` +
      (batch.completedAt
        ? `completed ${ago(batch.completedAt)}`
        : batch.startedAt
          ? `${batch.state}, started ${ago(batch.startedAt)}`
          : batch.state),
    pods: batch.pods,
  }));
  if (model.others.length > 0) {
    const revisions = [...new Set(model.others.map((p) => p.revision))]
      .filter((r) => r !== undefined)
      .sort((a, b) => a - b);
    groups.push({
      title: `other revisions (${revisions.map(String).join(', ') || 'none'}): ${String(model.others.length)} pod${model.others.length === 1 ? '' : 's'}`,
      pods: model.others,
    });
  }
  groups.forEach((group, gi) => {
    const lastGroup = gi === groups.length - 1;
    out.push(`${lastGroup ? '└─' : '├─'} ${group.title}`);
    const indent = lastGroup ? '   ' : '│  ';
    group.pods.forEach((pod, pi) => {
      const last = pi === group.pods.length - 1;
      out.push(`${indent}${last ? '└─' : '├─'} ${podText(pod)}`);
      // A held pod's message is the rollout's hold, already shown above.
      if (pod.detail && pod.detail !== rollout?.hold?.message)
        out.push(`${indent}${last ? '   ' : '│  '}   ${pod.detail}`);
    });
  });
  if (model.next.length > 0) {
    out.push('Next:');
    for (const command of model.next) out.push(`  ${command}`);
  }
  return out.join('\n');
}

function podText(pod: PodLine): string {
  const base = pod.node
    ? ` on ${pod.node}` +
      (pod.base
        ? ` (base ${pod.base.name ?? '?'} ${pod.base.version ?? '?'}${pod.base.ready ? '' : ', NotReady'})`
        : ' (node gone)')
    : '';
  return `${pod.name} ${pod.modules.join(' ')} ${pod.state}${base}`;
}
