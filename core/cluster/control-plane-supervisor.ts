/**
 * The supervisor process of one local control plane (started by control-plane.ts, never by hand).
 *
 * Node has no parent-death signal, so cleanup is layered:
 * - attached mode: the owner holds our stdin; when the owner dies for any reason, even SIGKILL, the pipe
 *   closes and we stop every component;
 * - every component is exec'd through `setpriv --pdeathsig SIGKILL`, so if this supervisor itself is killed
 *   the kernel kills the components;
 * - detached mode (`npm run cluster -- up`): we outlive the CLI and stop on SIGTERM (`cluster down`).
 * A component that exits on its own takes the whole control plane down: half a cluster is worse than none.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ComponentSpec } from './component-specs.ts';
import { httpGet, probeOnce, type AdminTls } from './readiness.ts';
import type {
  ControlPlanePhase,
  ControlPlaneState,
  SupervisorEvent,
  SupervisorSpec,
} from './supervisor-protocol.ts';

const STOP_GRACE_MS = 10_000;

interface Running {
  readonly spec: ComponentSpec;
  readonly child: ChildProcess;
  exited: boolean;
}

const specPath = process.argv[process.argv.indexOf('--spec') + 1];
const attached = process.argv.includes('--attached');
if (!specPath) {
  process.stderr.write('usage: control-plane-supervisor.ts --spec <file> [--attached]\n');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as SupervisorSpec;
const admin: AdminTls = {
  ca: readFileSync(spec.adminTls.ca),
  cert: readFileSync(spec.adminTls.cert),
  key: readFileSync(spec.adminTls.key),
};
const running: Running[] = [];
const startedAt = new Date();
let phase: ControlPlanePhase = 'starting';
let readyAt: string | undefined;
let stopping: Promise<void> | undefined;
const componentReadyMs: Record<string, number> = {};

const pdeathsig = hasSetprivPdeathsig();

function emit(event: SupervisorEvent): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function writeState(message?: string): void {
  const state: ControlPlaneState = {
    phase,
    supervisorPid: process.pid,
    dataDir: spec.dataDir,
    kubeconfig: spec.kubeconfig,
    apiserverUrl: spec.apiserverUrl,
    profile: spec.profile,
    version: spec.version,
    ports: spec.ports,
    components: Object.fromEntries(
      spec.components.map((component) => [
        component.name,
        {
          pid: running.find((r) => r.spec.name === component.name && !r.exited)?.child.pid,
          logFile: component.logFile,
        },
      ]),
    ),
    startedAt: startedAt.toISOString(),
    ...(readyAt ? { readyAt } : {}),
    ...(message ? { message } : {}),
  };
  // Written whole and renamed, so a concurrent `cluster status` never reads half a file.
  const tmp = `${spec.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, spec.stateFile);
}

function setPhase(next: ControlPlanePhase, message?: string): void {
  phase = next;
  writeState(message);
}

function hasSetprivPdeathsig(): boolean {
  const result = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('--pdeathsig');
}

function startComponent(component: ComponentSpec): Running {
  const log = openSync(component.logFile, 'a');
  const [file, args] = pdeathsig
    ? ['setpriv', ['--pdeathsig', 'SIGKILL', '--', component.binary, ...component.args]]
    : [component.binary, [...component.args]];
  const child = spawn(file, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  const entry: Running = { spec: component, child, exited: false };
  child.on('exit', (code, signal) => {
    entry.exited = true;
    if (!stopping) {
      void fail(
        `${component.name} exited unexpectedly (${signal ?? `code ${code}`}); see ${component.logFile}`,
      );
    }
  });
  child.on('error', (error) => {
    entry.exited = true;
    if (!stopping) void fail(`cannot start ${component.name}: ${error.message}`);
  });
  running.push(entry);
  writeState();
  return entry;
}

async function waitReady(entry: Running): Promise<void> {
  const deadline = Date.now() + entry.spec.readinessTimeoutMs;
  while (Date.now() < deadline) {
    if (entry.exited || stopping) throw new Error(`${entry.spec.name} stopped before it was ready`);
    if (await probeOnce(entry.spec.readiness, admin)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `${entry.spec.name} not ready after ${entry.spec.readinessTimeoutMs / 1000} s (${entry.spec.readiness.url}); ` +
      `see ${entry.spec.logFile}`,
  );
}

/** The `default` ServiceAccount appears once kube-controller-manager's controllers run: the cluster works. */
async function waitDefaultServiceAccount(timeoutMs: number): Promise<void> {
  const url = `${spec.apiserverUrl}/api/v1/namespaces/default/serviceaccounts/default`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) throw new Error('stopped before the cluster was ready');
    try {
      if ((await httpGet(url, { admin })).status === 200) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('kube-controller-manager did not create the default ServiceAccount in time');
}

async function stopAll(): Promise<void> {
  // Reverse start order: clients of etcd first, etcd last, so nothing logs storms of connection errors.
  for (const entry of [...running].reverse()) {
    if (entry.exited) continue;
    const exited = new Promise<void>((resolve) =>
      entry.child.once('exit', () => {
        resolve();
      }),
    );
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}

function stop(reason: string): Promise<void> {
  stopping ??= (async () => {
    if (phase !== 'failed') setPhase('stopping', reason);
    await stopAll();
    if (phase !== 'failed') setPhase('stopped', reason);
    emit({ event: 'stopped' });
  })();
  return stopping;
}

async function fail(message: string): Promise<void> {
  if (stopping) return;
  setPhase('failed', message);
  emit({ event: 'failed', message });
  await stop(message);
  process.exit(1);
}

async function main(): Promise<void> {
  // With the owner gone our stdout pipe is broken; that must not kill us before we have stopped the components.
  process.stdout.on('error', () => undefined);
  await mkdir(dirname(spec.stateFile), { recursive: true });
  setPhase('starting');
  process.on('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));
  process.on('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));
  if (attached) {
    // Our owner keeps this pipe open for as long as it lives; its end means the owner is gone.
    process.stdin.on('data', () => undefined);
    process.stdin.on('close', () => void stop('owner exited').then(() => process.exit(0)));
  }
  for (const component of spec.components) {
    emit({ event: 'progress', message: `starting ${component.name}` });
    const entry = startComponent(component);
    await waitReady(entry);
    componentReadyMs[component.name] = Date.now() - startedAt.getTime();
    emit({ event: 'progress', message: `${component.name} ready (${componentReadyMs[component.name]} ms)` });
  }
  await waitDefaultServiceAccount(60_000);
  readyAt = new Date().toISOString();
  setPhase('running');
  emit({ event: 'ready', elapsedMs: Date.now() - startedAt.getTime(), componentReadyMs });
}

main().catch((error: unknown) => {
  void fail(error instanceof Error ? error.message : String(error));
});
