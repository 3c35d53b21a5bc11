import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureBinaries } from '../../core/cluster/build-binaries.ts';
import { startControlPlane, type ControlPlane } from '../../core/cluster/control-plane.ts';
import { readState } from '../../core/cluster/control-plane.ts';
import { timerProfile } from '../../core/cluster/timer-profiles.ts';
import { join } from 'node:path';

/**
 * Start times of the local control plane. The build is done (or checked) first and excluded. "Cold" is the
 * first start after dropping the kernel's page cache (when allowed), so the 300 MB of binaries come from disk;
 * "warm" starts follow with the binaries cached. Every start uses a fresh data directory and fresh PKI.
 */
export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: { warm: { type: 'string', default: '3' }, profile: { type: 'string', default: 'realistic' } },
  });
  const profile = timerProfile(values.profile);
  const warmRuns = Number.parseInt(values.warm, 10);
  await ensureBinaries({ onProgress: (message) => process.stderr.write(`[build] ${message}\n`) });

  const dropped = dropPageCache();
  const cold = await measure(profile);
  const warm = [];
  for (let i = 0; i < warmRuns; i += 1) warm.push(await measure(profile));

  const lines = [
    `control plane start (${profile.name} timers; build excluded; ${dropped ? 'page cache dropped before cold start' : 'page cache NOT dropped (no permission): cold = first start of this process'})`,
    '',
    `  ${'run'.padEnd(8)} ${'total'.padStart(8)} ${'etcd'.padStart(8)} ${'apiserver'.padStart(10)} ${'kcm'.padStart(8)} ${'scheduler'.padStart(10)}   RSS after ready`,
    row('cold', cold),
    ...warm.map((sample, i) => row(`warm ${i + 1}`, sample)),
    '',
    `  warm median: ${median(warm.map((s) => s.totalMs))} ms   cold: ${cold.totalMs} ms`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

interface Sample {
  readonly totalMs: number;
  readonly componentMs: Readonly<Record<string, number>>;
  readonly rssMb: Readonly<Record<string, number>>;
}

async function measure(profile: ReturnType<typeof timerProfile>): Promise<Sample> {
  let plane: ControlPlane | undefined;
  try {
    plane = await startControlPlane({ profile });
    const state = await readState(join(plane.dataDir, 'state.json'));
    const rssMb: Record<string, number> = {};
    for (const [name, info] of Object.entries(state?.components ?? {})) {
      if (info.pid !== undefined) rssMb[name] = rssOf(info.pid);
    }
    return { totalMs: plane.startMs, componentMs: plane.componentReadyMs, rssMb };
  } finally {
    await plane?.stop();
  }
}

function row(label: string, sample: Sample): string {
  const c = (name: string) => String(sample.componentMs[name] ?? '-');
  const rss = Object.entries(sample.rssMb)
    .map(([name, mb]) => `${name.replace('kube-', '')} ${mb} MB`)
    .join(', ');
  const total = Object.values(sample.rssMb).reduce((a, b) => a + b, 0);
  return `  ${label.padEnd(8)} ${`${sample.totalMs}`.padStart(8)} ${c('etcd').padStart(8)} ${c('kube-apiserver').padStart(10)} ${c('kube-controller-manager').padStart(8)} ${c('kube-scheduler').padStart(10)}   ${total} MB (${rss})`;
}

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function dropPageCache(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
