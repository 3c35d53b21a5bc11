import { AppsV1Api, CoreV1Api, KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startEmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { startControlPlane } from '../../core/cluster/control-plane.ts';
import { timerProfile } from '../../core/cluster/timer-profiles.ts';
import { Informer } from '../../core/kube/informer.ts';
import { silentLogger } from '../../core/logger.ts';
import { SimulatedBase } from '../../core/sim/simulated-base.ts';

const MAIN = fileURLToPath(new URL('../../core/cli/main.ts', import.meta.url));
const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/**
 * The core at scale: N simulated bases (stock 10 s heartbeats) against kmc running as its own process on a real
 * control plane with realistic timers. Prints time to all nodes Ready, base report → pod status latency, API
 * writes per base per minute at steady state, and kmc's CPU and RSS. Figures, not pass / fail.
 */
export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      bases: { type: 'string', default: '200' },
      pods: { type: 'string', default: '50' },
      steady: { type: 'string', default: '60' },
      profile: { type: 'string', default: 'realistic' },
    },
  });
  const count = Number.parseInt(values.bases, 10);
  const podCount = Math.min(count, Number.parseInt(values.pods, 10));
  const steadyMs = Number.parseInt(values.steady, 10) * 1000;

  const plane = await startControlPlane({ profile: timerProfile(values.profile), onProgress: say });
  const broker = await startEmbeddedBroker();
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const env = 'bench';
  const port = 30_000 + Math.floor(Math.random() * 10_000);
  const configFile = join(tmpdir(), `kmc-bench-${process.pid}.yaml`);
  await writeFile(
    configFile,
    stringify({
      env,
      mqtt: { url: broker.url },
      leaderElection: { enabled: false },
      server: { host: '127.0.0.1', port },
      log: { level: 'warn' },
    }),
  );
  const kmc = spawn(process.execPath, [MAIN, 'run', '--config', configFile], {
    env: { ...process.env, KUBECONFIG: plane.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let kmcLog = '';
  kmc.stdout.setEncoding('utf8').on('data', (chunk: string) => (kmcLog += chunk));
  kmc.stderr.setEncoding('utf8').on('data', (chunk: string) => (kmcLog += chunk));
  const bases: SimulatedBase[] = [];
  try {
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      'kmc ready',
    );
    const pid = kmc.pid ?? 0;
    const idleRss = rssMb(pid);

    const nodes = new Informer<V1Node>({
      kc,
      path: '/api/v1/nodes',
      list: () => core.listNode({ labelSelector: `virtual-kubelet.koupleless.io/env=${env}` }),
      labelSelector: `virtual-kubelet.koupleless.io/env=${env}`,
      logger: silentLogger(),
    });
    await nodes.start();
    const readyNodes = () =>
      nodes.list().filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .length;

    say(`starting ${count} simulated bases`);
    const started = Date.now();
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
          const base = new SimulatedBase({
            brokerUrl: broker.url,
            identity: `bench-${i + j}`,
            env,
            localIP: `10.${Math.floor((i + j) / 250)}.${(i + j) % 250}.1`,
            hostname: `bench-${i + j}`,
          });
          bases.push(base);
          await base.start();
        }),
      );
    }
    const connectedMs = Date.now() - started;
    await waitUntil(() => readyNodes() === count, 600_000, `${count} nodes Ready`);
    const allReadyMs = Date.now() - started;
    say(`${count} nodes Ready after ${allReadyMs} ms`);

    // Report → status: a Deployment with one pod per base on `podCount` bases.
    const namespace = 'bench';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitUntil(
      async () =>
        (await core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => undefined)) !==
        undefined,
      30_000,
      'default service account',
    );
    const readyAt = new Map<string, number>();
    const pods = new Informer<V1Pod>({
      kc,
      path: `/api/v1/namespaces/${namespace}/pods`,
      list: () => core.listNamespacedPod({ namespace }),
      logger: silentLogger(),
      onEvent: (_event, pod) => {
        const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready && pod.spec?.nodeName && !readyAt.has(pod.spec.nodeName))
          readyAt.set(pod.spec.nodeName, Date.now());
      },
    });
    await pods.start();
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace, body: deployment(podCount) });
    await waitUntil(() => readyAt.size === podCount, 300_000, `${podCount} Ready pods`);
    const latencies: number[] = [];
    for (const base of bases) {
      const reply = base.timeline.published().find((m) => m.kind === 'bizOperation');
      const ready = readyAt.get(`virtual-node-${base.identity}`);
      if (reply && ready) latencies.push(ready - reply.at);
    }
    latencies.sort((a, b) => a - b);

    // Steady state: nothing changes; what does kmc cost?
    const writesBefore = await apiWrites(port);
    const cpuBefore = cpuMs(pid);
    const steadyStart = Date.now();
    await new Promise((resolve) => setTimeout(resolve, steadyMs));
    const minutes = (Date.now() - steadyStart) / 60_000;
    const writes = (await apiWrites(port)) - writesBefore;
    const cpu = (cpuMs(pid) - cpuBefore) / (Date.now() - steadyStart);
    const rss = rssMb(pid);
    const heap = await heapUsedMb(port);
    const throttled = (kmcLog.match(/429|TooManyRequests|throttl/gi) ?? []).length;
    const lines = [
      `core at scale: ${count} bases, ${podCount} module pods, ${values.profile} timers, kmc as its own process`,
      '',
      `  all bases connected                 ${connectedMs} ms`,
      `  all nodes Ready                     ${allReadyMs} ms after the first base started`,
      `  report → pod Ready latency          p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms (n=${latencies.length})`,
      `  API writes at steady state          ${(writes / count / minutes).toFixed(2)} per base per minute (${writes} in ${minutes.toFixed(1)} min)`,
      `  kmc CPU at steady state             ${(cpu * 100).toFixed(1)} % of one core (${((cpu * 100) / count).toFixed(3)} % per base)`,
      `  kmc RSS                             ${rss} MB (idle ${idleRss} MB; ${(((rss - idleRss) * 1024) / count).toFixed(1)} KB per base); JS heap used ${heap} MB`,
      `  throttling / 429 lines in kmc log   ${throttled}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    await pods.stop();
    await nodes.stop();
  } finally {
    for (const base of bases) await base.stop().catch(() => undefined);
    kmc.kill('SIGTERM');
    await broker.close();
    await plane.stop();
  }
}

function deployment(replicas: number) {
  return {
    metadata: { name: 'bench' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'bench' } },
      template: {
        metadata: {
          labels: {
            app: 'bench',
            'module-controller.koupleless.io/component': 'module',
            'module.koupleless.io/name': 'biz1',
          },
        },
        spec: {
          containers: [
            {
              name: 'biz1',
              image: 'https://example.invalid/biz1-0.0.1-ark-biz.jar',
              env: [{ name: 'BIZ_VERSION', value: '0.0.1' }],
            },
          ],
          tolerations: [
            {
              key: 'schedule.koupleless.io/virtual-node',
              operator: 'Equal',
              value: 'True',
              effect: 'NoExecute',
            },
          ],
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: { app: 'bench' } }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
        },
      },
    },
  };
}

async function apiWrites(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^kmc_api_writes_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

async function heapUsedMb(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = /^kmc_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text);
  return match?.[1] ? Math.round(Number(match[1]) / 1024 / 1024) : 0;
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Math.round(Number(match[1]) / 1024) : 0;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function waitUntil(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
