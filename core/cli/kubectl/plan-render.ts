import type { PlanModel, Spread, StrategyField } from './plan-types.ts';

const SPREAD: Record<Spread, string> = {
  'one-per-base':
    'at most one pod of the Deployment per base, old and new alike (required anti-affinity on kubernetes.io/hostname)',
  'one-per-base-per-revision':
    'at most one pod per base per revision: a new pod may land beside an old one (required anti-affinity on kubernetes.io/hostname)',
  any: 'no required anti-affinity on kubernetes.io/hostname: the scheduler may put several pods on one base',
};

const plural = (n: number, word: string) => `${String(n)} ${word}${n === 1 ? '' : 's'}`;

/** The plan as `kubectl koupleless plan` prints it. Pure. */
export function renderPlan(model: PlanModel): string {
  const out: string[] = [];
  const subject = model.subject === 'manifest' ? 'the manifest' : 'its current spec';
  out.push(
    `Plan for deployment ${model.namespace}/${model.deployment}: ${subject} as ` +
      (model.kind === 'none'
        ? `revision ${String(model.targetRevision)} (unchanged)`
        : `revision ${String(model.targetRevision)} (ModuleRollout ${model.rollout})`),
  );
  const { file, plugins, implicit } = model.config;
  out.push(
    `Config: ${file ?? 'none found (defaults: no strategy plugin listed)'}` +
      (file ? `; plugins: ${plugins.length > 0 ? plugins.join(', ') : 'none'}` : '') +
      (implicit.length > 0 ? `; off unless annotated: ${implicit.join(', ')}` : ''),
  );
  const kind =
    model.kind === 'none'
      ? 'no rollout'
      : model.kind === 'update' || model.kind === 'undo'
        ? `${model.kind} from revision ${String(model.stableRevision ?? '?')}`
        : 'first install';
  out.push(
    `Rollout: ${kind}, ${plural(model.replicas, 'replica')}` +
      (model.replicasFrom === 'peer' ? ' (peer: one per matching Ready base)' : '') +
      (model.why ? `, unbatched: ${model.why}` : ', batched'),
  );
  if (model.kind !== 'none' && !model.unbatched) out.push(`Strategy: ${strategyText(model)}`);

  if (model.batches.length > 0) {
    out.push(
      `Batches: ${model.plan.join(', ')} (cumulative pods whose module runs the new version, as status.plan)`,
    );
    const last = model.replicas;
    for (const batch of model.batches) {
      const bases = batch.bases ? `: every matching base (${batch.bases.join(', ')})` : '';
      out.push(
        `  batch ${String(batch.index)}: ${plural(batch.size, 'pod')} → ${String(batch.target)} of ${String(last)}${bases}`,
      );
      for (const hold of batch.holds)
        out.push(`    ${hold.certain ? 'holds' : 'may hold'} ${hold.reason}: ${hold.detail}`);
    }
    out.push(
      model.bases.sets === 'peer'
        ? '  Peer Deployment: the bases are the matching ones; which of them an earlier batch takes is the order pods are admitted in.'
        : '  Batches are pod counts, not base sets: the scheduler places the pods (kubectl koupleless status shows where).',
    );
  }

  const { deployment, plugin, effective } = model.budgets;
  out.push(
    `Budgets: the Deployment's ${
      deployment.type === 'Recreate'
        ? 'strategy Recreate (every pod at once)'
        : `maxSurge ${String(deployment.maxSurge.value)} → ${plural(deployment.maxSurge.pods, 'pod')}, ` +
          `maxUnavailable ${String(deployment.maxUnavailable.value)} → ${plural(deployment.maxUnavailable.pods, 'pod')}`
    }; ` +
      (plugin
        ? `max-unavailable ${String(plugin.value)} → ${String(plugin.pods)}; effective budget ${String(effective ?? plugin.pods)} ` +
          '(the smaller; the engine holds batches and uninstall-first updates beyond it)'
        : "no max-unavailable budget (the engine holds nothing for availability; the Deployment's own only " +
          'decides which old pods are deleted, and retention keeps their modules)'),
  );
  const { bases } = model;
  out.push(
    `Bases: ${plural(bases.matching.length, 'Ready base')} match the new template; ${SPREAD[bases.spread]}` +
      (bases.running.length > 0 ? `; ${String(bases.running.length)} run ${model.deployment} now` : ''),
  );
  if (model.warnings.length > 0) {
    out.push('Warnings:');
    for (const warning of model.warnings) out.push(`  ${warning.code}: ${warning.message}`);
  }
  if (model.notes.length > 0) {
    out.push('Notes:');
    for (const note of model.notes) out.push(`  ${note}`);
  }
  return out.join('\n');
}

function strategyText(model: PlanModel): string {
  const { strategy: s, sources } = model;
  const from = (field: StrategyField) => ` (${sources[field]})`;
  const parts = [
    s.batchSizes
      ? `batchSizes ${s.batchSizes.join(',')}${from('batchSizes')}`
      : `batchCount ${String(s.batchCount)}${from('batchCount')}`,
    `beta ${s.beta ? 'on' : 'off'}${from('beta')}`,
    `confirm ${s.needConfirm || 'never'}${from('needConfirm')}`,
    `gray ${String(s.graySeconds)} s${from('graySeconds')}`,
    `maxUnavailable ${s.maxUnavailable === undefined ? 'none' : String(s.maxUnavailable)}${from('maxUnavailable')}`,
  ];
  return parts.join(', ');
}
