import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureBinaries, type ProgressSink } from './build-binaries.ts';
import { componentSpecs, type ControlPlanePorts } from './component-specs.ts';
import { isAlive } from './process-alive.ts';
import { freeLoopbackPorts } from './free-ports.ts';
import { K8S_VERSION } from './k8s-release.ts';
import { generatePki, readKubeconfigMaterial, renderKubeconfig } from './pki.ts';
import { parseSupervisorEvent, type ControlPlaneState, type SupervisorSpec } from './supervisor-protocol.ts';
import { FAST_PROFILE, type TimerProfile } from './timer-profiles.ts';

const SUPERVISOR = fileURLToPath(new URL('./control-plane-supervisor.ts', import.meta.url));
const START_ATTEMPTS = 3;
const START_TIMEOUT_MS = 240_000;

export interface StartControlPlaneOptions {
  /** Where etcd data, PKI, kubeconfig, logs and state go; a fresh temp directory by default. */
  readonly dataDir?: string;
  readonly profile?: TimerProfile;
  readonly version?: string;
  readonly onProgress?: ProgressSink;
  /**
   * `attached` (default): the control plane lives exactly as long as this process (it is stopped even if this
   * process is killed). `detached`: it keeps running after this process exits, until `stopControlPlane`.
   */
  readonly mode?: 'attached' | 'detached';
  /** Build kubectl at the server's version too. */
  readonly withKubectl?: boolean;
}

export interface ControlPlane {
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly apiserverUrl: string;
  readonly ports: ControlPlanePorts;
  readonly profile: TimerProfile;
  readonly binDir: string;
  readonly supervisorPid: number;
  readonly startMs: number;
  /** When each component became ready, in ms from the supervisor's start (attached mode only). */
  readonly componentReadyMs: Readonly<Record<string, number>>;
  /** Stops every component (and, unless `keepData`, removes the data directory). */
  stop(options?: { readonly keepData?: boolean }): Promise<void>;
}

export class ControlPlaneStartError extends Error {
  override readonly name = 'ControlPlaneStartError';
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler as local processes on free loopback
 * ports, with a generated PKI and an admin kubeconfig, and resolves once the cluster works (the default
 * ServiceAccount exists). Builds the binaries first if the cache lacks them.
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  const profile = options.profile ?? FAST_PROFILE;
  const version = options.version ?? K8S_VERSION;
  const bin = await ensureBinaries({
    version,
    onProgress: progress,
    ...(options.withKubectl ? { withKubectl: true } : {}),
  });
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'kmc-cp-')));
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    try {
      return await startOnce(dataDir, bin, profile, version, options.mode ?? 'attached', progress);
    } catch (error) {
      lastError = error;
      // Most failures here are a port taken between choosing it and binding it; fresh ports fix those.
      if (attempt < START_ATTEMPTS)
        progress(`start failed (${(error as Error).message}); retrying with new ports`);
    }
  }
  throw new ControlPlaneStartError(`the local control plane did not start: ${(lastError as Error).message}`, {
    cause: lastError,
  });
}

async function startOnce(
  dataDir: string,
  bin: string,
  profile: TimerProfile,
  version: string,
  mode: 'attached' | 'detached',
  progress: ProgressSink,
): Promise<ControlPlane> {
  const started = Date.now();
  // A retry starts from an empty etcd so no half-initialised state survives.
  await rm(join(dataDir, 'etcd'), { recursive: true, force: true });
  await mkdir(join(dataDir, 'logs'), { recursive: true });
  const pki = await generatePki(join(dataDir, 'pki'));
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler] = await freeLoopbackPorts(5);
  const ports: ControlPlanePorts = {
    etcdClient: etcdClient ?? 0,
    etcdPeer: etcdPeer ?? 0,
    apiserver: apiserver ?? 0,
    controllerManager: controllerManager ?? 0,
    scheduler: scheduler ?? 0,
  };
  const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfig = join(dataDir, 'kubeconfig');
  await writeFile(kubeconfig, renderKubeconfig(await readKubeconfigMaterial(pki, apiserverUrl)), {
    mode: 0o600,
  });
  const spec: SupervisorSpec = {
    dataDir,
    kubeconfig,
    stateFile: join(dataDir, 'state.json'),
    ports,
    profile: profile.name,
    version,
    components: componentSpecs({ dataDir, binDir: bin, pki, kubeconfig, ports, profile }),
    adminTls: { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey },
    apiserverUrl,
  };
  const specFile = join(dataDir, 'supervisor-spec.json');
  await writeFile(specFile, JSON.stringify(spec, null, 2));

  const child = spawnSupervisor(specFile, dataDir, mode);
  const supervisorPid = child.pid;
  if (supervisorPid === undefined) throw new Error('could not spawn the control-plane supervisor');
  const componentReadyMs =
    mode === 'attached'
      ? await awaitReadyAttached(child, progress)
      : await awaitReadyDetached(spec.stateFile, supervisorPid, progress);

  const handle: ControlPlane = {
    dataDir,
    kubeconfig,
    apiserverUrl,
    ports,
    profile,
    binDir: bin,
    supervisorPid,
    startMs: Date.now() - started,
    componentReadyMs,
    stop: async ({ keepData = false } = {}) => {
      await stopSupervisor(supervisorPid, mode === 'attached' ? child : undefined);
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

function spawnSupervisor(specFile: string, dataDir: string, mode: 'attached' | 'detached'): ChildProcess {
  const args = [SUPERVISOR, '--spec', specFile, ...(mode === 'attached' ? ['--attached'] : [])];
  if (mode === 'attached') {
    // stdin stays open and unwritten for our whole life: its closing is the supervisor's owner-death signal.
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    return child;
  }
  const log = openSync(join(dataDir, 'logs', 'supervisor.log'), 'a');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  return child;
}

function awaitReadyAttached(
  child: ChildProcess,
  progress: ProgressSink,
): Promise<Readonly<Record<string, number>>> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) {
      reject(new Error('supervisor has no stdout'));
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout });
    let settled = false;
    const settle = (outcome: Error | Readonly<Record<string, number>>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    lines.on('line', (line) => {
      const event = parseSupervisorEvent(line);
      if (!event) return;
      if (event.event === 'progress') progress(event.message);
      else if (event.event === 'ready') settle(event.componentReadyMs);
      else if (event.event === 'failed') settle(new Error(event.message));
    });
    child.once('exit', (code) => {
      settle(new Error(`supervisor exited with code ${code ?? 'null'} before the cluster was ready`));
    });
  });
}

async function awaitReadyDetached(
  stateFile: string,
  pid: number,
  progress: ProgressSink,
): Promise<Readonly<Record<string, number>>> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastPhase = '';
  while (Date.now() < deadline) {
    const state = await readState(stateFile);
    if (state && state.phase !== lastPhase) {
      lastPhase = state.phase;
      progress(`control plane ${state.phase}`);
    }
    if (state?.phase === 'running') return {};
    if (state?.phase === 'failed') throw new Error(state.message ?? 'failed');
    if (!isAlive(pid)) throw new Error('the supervisor exited before the cluster was ready');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.kill(pid, 'SIGTERM');
  throw new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`);
}

export async function readState(stateFile: string): Promise<ControlPlaneState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile, 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

/** Sends SIGTERM to a supervisor and waits until it (and so every component) is gone. */
export async function stopSupervisor(pid: number, child?: ChildProcess): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    child.kill('SIGTERM');
    await exited;
    return;
  }
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
