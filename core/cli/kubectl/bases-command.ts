import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { NODE_ANNOTATIONS } from '../../vnode/node-names.ts';
import { baseViews, controllerLeases, diagnose, type BaseView } from './bases-model.ts';
import { CliError, type Cluster } from './cluster.ts';

type Output = 'json' | 'yaml' | undefined;

/** Columns padded to their widest cell, as kubectl prints tables. Pure. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

/** The bases' nodes, optionally narrowed by a label selector (`-l virtual-kubelet.koupleless.io/env=dev`). */
async function vnodes(cluster: Cluster, selector?: string): Promise<V1Node[]> {
  const labelSelector = ['type=virtual-kubelet', selector].filter(Boolean).join(',');
  return (await cluster.call('list nodes', () => cluster.core.listNode({ labelSelector }))).items;
}

/** Pods bound to the given nodes, in every namespace. */
async function podsOn(cluster: Cluster, nodes: readonly V1Node[]): Promise<V1Pod[]> {
  const names = new Set(nodes.map((n) => n.metadata?.name));
  if (nodes.length === 1)
    return (
      await cluster.call('list pods', () =>
        cluster.core.listPodForAllNamespaces({
          fieldSelector: `spec.nodeName=${nodes[0]?.metadata?.name ?? ''}`,
        }),
      )
    ).items;
  const all = await cluster.call('list pods', () => cluster.core.listPodForAllNamespaces());
  return all.items.filter((p) => names.has(p.spec?.nodeName));
}

function moduleSummary(base: BaseView): string {
  if (base.modules.length === 0) return '<none>';
  const counts = new Map<string, number>();
  for (const m of base.modules) {
    const key = `${m.bizName}:${m.bizVersion} ${m.state}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n > 1 ? `${key} ×${String(n)}` : key)).join(', ');
}

/** `bases`: one line per base, then a warning for each base that pods land on without being module pods. */
export async function basesCommand(
  cluster: Cluster,
  options: { readonly output?: Output; readonly selector?: string },
  write: (text: string) => void,
): Promise<void> {
  const { output } = options;
  const nodes = await vnodes(cluster, options.selector);
  const bases = baseViews(nodes, await podsOn(cluster, nodes), Date.now());
  if (output) {
    write(output === 'json' ? JSON.stringify(bases, null, 2) : stringify(bases).trimEnd());
    return;
  }
  if (bases.length === 0) {
    write(
      options.selector
        ? `no bases match ${options.selector}`
        : 'no bases: no node has the label type=virtual-kubelet (is kmc running, and do bases reach its broker?)',
    );
    return;
  }
  write(
    table([
      ['NODE', 'BASE', 'VERSION', 'CLUSTER', 'READY', 'MODE', 'MODULES'],
      ...bases.map((b) => [
        b.node,
        b.name,
        b.version,
        b.cluster || '-',
        (b.ready ? 'True' : `False (${b.readyReason ?? ''})`) + (b.unschedulable ? ',cordoned' : ''),
        b.mode,
        moduleSummary(b),
      ]),
    ]),
  );
  for (const base of bases.filter((b) => b.foreign.length > 0))
    write(
      `warning: ${base.node}: ${base.foreign.length > 1 ? 'not module pods' : 'not a module pod'}, never run: ` +
        `${base.foreign.join(', ')} (give DaemonSets the node affinity "type NotIn [virtual-kubelet]")`,
    );
}

/** `modules <base>`: a base by node name, base id, or `virtual-node-<id>`; every module instance on it. */
export async function modulesCommand(
  cluster: Cluster,
  base: string,
  output: Output,
  write: (text: string) => void,
): Promise<void> {
  const nodes = await vnodes(cluster);
  const node =
    nodes.find((n) => n.metadata?.name === base) ??
    nodes.find((n) => n.metadata?.annotations?.[NODE_ANNOTATIONS.baseId] === base) ??
    nodes.find((n) => n.metadata?.name === `virtual-node-${base.toLowerCase()}`);
  if (!node)
    throw new CliError(
      `no base "${base}": give a node name or a base id (kubectl koupleless bases lists them)`,
    );
  const [view] = baseViews([node], await podsOn(cluster, [node]), Date.now());
  if (!view) throw new CliError(`no base "${base}"`);
  if (output) {
    write(output === 'json' ? JSON.stringify(view, null, 2) : stringify(view).trimEnd());
    return;
  }
  write(
    `Base ${view.baseId || view.node} (node ${view.node}): ${view.name} ${view.version}` +
      `${view.cluster ? `, cluster ${view.cluster}` : ''}, env ${view.env || '-'}, IP ${view.ip || '-'}, ` +
      `${view.ready ? 'Ready' : `NotReady (${view.readyReason ?? ''})`}, activation mode ${view.mode}`,
  );
  if (view.modules.length === 0) write('no modules');
  else
    write(
      table([
        ['MODULE', 'VERSION', 'STATE', 'POD', 'WORKLOAD'],
        ...view.modules.map((m) => [m.bizName, m.bizVersion, m.state, m.pod ?? '-', m.owner ?? '-']),
      ]),
    );
  for (const m of view.modules.filter((x) => x.detail))
    write(`  ${m.bizName}:${m.bizVersion}: ${m.detail ?? ''}`);
  if (view.foreign.length > 0) write(`not module pods (never run here): ${view.foreign.join(', ')}`);
}

/** `doctor`: 0 when nothing is wrong, 1 when a problem is found (warnings alone keep 0). */
export async function doctorCommand(cluster: Cluster, write: (text: string) => void): Promise<number> {
  const nodes = await vnodes(cluster);
  const pods = await podsOn(cluster, nodes);
  const leases = await cluster.call('list leases', () => cluster.coordination.listLeaseForAllNamespaces());
  const now = Date.now();
  const controllers = controllerLeases(leases.items, now);
  const bases = baseViews(nodes, pods, now);
  for (const c of controllers)
    write(
      `controller: Lease ${c.namespace}/${c.name}, ${c.fresh ? `held by ${c.holder ?? '?'}` : 'not renewed'}`,
    );
  write(
    `bases: ${String(bases.length)} (${String(bases.filter((b) => b.ready).length)} Ready), envs: ${[...new Set(bases.map((b) => b.env))].join(', ') || '-'}`,
  );
  const findings = diagnose(bases, controllers, pods, now);
  if (findings.length === 0) {
    write('no problems found');
    return 0;
  }
  for (const f of findings) write(`${f.severity}: ${f.message}`);
  return findings.some((f) => f.severity === 'problem') ? 1 : 0;
}
