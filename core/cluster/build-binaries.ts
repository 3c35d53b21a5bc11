import { access, constants, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withDirectoryLock } from './directory-lock.ts';
import {
  CONTROL_PLANE_BINARIES,
  K8S_VERSION,
  KUBECTL_BINARY,
  binDir,
  k8sCacheDir,
  type BinaryName,
} from './k8s-release.ts';
import {
  parseKubernetesGoMod,
  renderEtcdGoMod,
  renderToolsFile,
  renderWrapperGoMod,
  versionLdflags,
  type KubernetesGoMod,
} from './k8s-go-module.ts';
import { runCommand } from './run-command.ts';

export type ProgressSink = (message: string) => void;

export interface EnsureBinariesOptions {
  readonly version?: string;
  readonly onProgress?: ProgressSink;
  /** Also build kubectl at the server's version (tests and docs use it). */
  readonly withKubectl?: boolean;
}

const K8S_COMMANDS: Record<Exclude<BinaryName, 'etcd'>, string> = {
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
  kubectl: 'k8s.io/kubernetes/cmd/kubectl',
};

/**
 * Makes sure the control-plane binaries exist in the cache, building the missing ones from the Go module proxy.
 * Only what is missing is built: a machine with the cache pays nothing, a fresh one pays the full build once.
 * Binaries land in the cache only when complete (built elsewhere, then renamed), so an interrupted build is
 * simply resumed by the next call.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<string> {
  const version = options.version ?? K8S_VERSION;
  const progress = options.onProgress ?? (() => undefined);
  const wanted: BinaryName[] = [...CONTROL_PLANE_BINARIES];
  if (options.withKubectl) wanted.push(KUBECTL_BINARY);
  const bin = binDir(version);
  if ((await missingBinaries(bin, wanted)).length === 0) return bin;

  const cache = k8sCacheDir(version);
  await mkdir(cache, { recursive: true });
  await withDirectoryLock(
    join(cache, '.build-lock'),
    async () => {
      // Another process may have finished the build while we waited for the lock.
      const missing = await missingBinaries(bin, wanted);
      if (missing.length === 0) return;
      await checkGo();
      progress(`building ${missing.join(', ')} at Kubernetes ${version} from the Go module proxy`);
      progress('a first build takes 15–30 minutes on 2 cores; later runs reuse the cache in ' + bin);
      const upstream = await readUpstreamGoMod(version, cache, progress);
      const staging = join(cache, 'bin.partial');
      await mkdir(staging, { recursive: true });
      await mkdir(bin, { recursive: true });
      if (missing.includes('etcd')) await buildEtcd(upstream, cache, staging, progress);
      const k8sMissing = missing.filter((name): name is Exclude<BinaryName, 'etcd'> => name !== 'etcd');
      if (k8sMissing.length > 0)
        await buildKubernetes(version, upstream, k8sMissing, cache, staging, progress);
      for (const name of missing) await rename(join(staging, name), join(bin, name));
      await rm(staging, { recursive: true, force: true });
      const apiserver = await runCommand(join(bin, 'kube-apiserver'), ['--version']);
      progress(`built: ${apiserver.stdout.trim()} in ${bin}`);
    },
    (pid) => {
      progress(`waiting for the build already running in process ${pid}`);
    },
  );
  return bin;
}

export async function missingBinaries(bin: string, wanted: readonly BinaryName[]): Promise<BinaryName[]> {
  const missing: BinaryName[] = [];
  for (const name of wanted) {
    try {
      await access(join(bin, name), constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

function goEnv(): NodeJS.ProcessEnv {
  // Static binaries; -trimpath keeps the build cache reusable across cache directories.
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-trimpath' };
}

async function checkGo(): Promise<void> {
  try {
    await runCommand('go', ['version']);
  } catch (error) {
    throw new Error(
      'Go is needed to build the local Kubernetes control plane (1.24 or later): install it from https://go.dev/dl/ ' +
        'or your distribution, then run again',
      { cause: error },
    );
  }
}

async function readUpstreamGoMod(
  version: string,
  cache: string,
  progress: ProgressSink,
): Promise<KubernetesGoMod> {
  progress(`downloading k8s.io/kubernetes@${version} to read its go.mod`);
  const probe = join(cache, 'src', 'probe');
  await rm(probe, { recursive: true, force: true });
  await mkdir(probe, { recursive: true });
  await writeFile(join(probe, 'go.mod'), 'module local.invalid/probe\n\ngo 1.24.0\n');
  const download = await runCommand('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], {
    cwd: probe,
    env: goEnv(),
  });
  const info = JSON.parse(download.stdout) as { GoMod?: string; Error?: string };
  if (!info.GoMod)
    throw new Error(`go mod download k8s.io/kubernetes@${version}: ${info.Error ?? 'no go.mod'}`);
  return parseKubernetesGoMod(await readFile(info.GoMod, 'utf8'));
}

async function buildEtcd(
  upstream: KubernetesGoMod,
  cache: string,
  out: string,
  progress: ProgressSink,
): Promise<void> {
  const src = join(cache, 'src', 'etcd');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'go.mod'), renderEtcdGoMod(upstream.etcdVersion));
  await writeFile(join(src, 'tools.go'), renderToolsFile(['go.etcd.io/etcd/server/v3']));
  progress(`etcd ${upstream.etcdVersion}: resolving modules`);
  // etcd keeps its own tested dependency set, so it lives in its own module rather than Kubernetes'.
  await runCommand('go', ['mod', 'tidy'], { cwd: src, env: goEnv() });
  await goBuildWithProgress(
    src,
    ['go.etcd.io/etcd/server/v3'],
    ['-ldflags', '-s -w', '-o', join(out, 'etcd')],
    'etcd',
    progress,
  );
}

async function buildKubernetes(
  version: string,
  upstream: KubernetesGoMod,
  names: readonly Exclude<BinaryName, 'etcd'>[],
  cache: string,
  out: string,
  progress: ProgressSink,
): Promise<void> {
  const src = join(cache, 'src', 'k8s');
  await mkdir(src, { recursive: true });
  const packages = names.map((name) => K8S_COMMANDS[name]);
  await writeFile(join(src, 'go.mod'), renderWrapperGoMod(version, upstream));
  await writeFile(join(src, 'tools.go'), renderToolsFile(Object.values(K8S_COMMANDS)));
  progress(`Kubernetes ${version}: resolving modules (downloads about 1 GB on a fresh machine)`);
  await runCommand('go', ['mod', 'tidy'], { cwd: src, env: goEnv() });
  const ldflags = versionLdflags(version, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
  // One go build for all commands: shared packages compile once and the links run in parallel.
  await goBuildWithProgress(
    src,
    packages,
    ['-ldflags', ldflags, '-o', out + '/'],
    names.join(', '),
    progress,
  );
}

/**
 * `go build -v` names each package as it compiles it; against the size of the dependency graph that gives a
 * percentage, reported every 5 % and at least every 30 s so a long silent link still shows life.
 */
async function goBuildWithProgress(
  cwd: string,
  packages: readonly string[],
  flags: readonly string[],
  label: string,
  progress: ProgressSink,
): Promise<void> {
  const list = await runCommand('go', ['list', '-deps', ...packages], { cwd, env: goEnv() });
  const total = list.stdout.split('\n').filter(Boolean).length;
  let built = 0;
  let lastPercent = -1;
  let lastReport = Date.now();
  progress(`${label}: compiling up to ${total} packages`);
  const heartbeat = setInterval(() => {
    if (Date.now() - lastReport >= 30_000) {
      progress(
        `${label}: still building (${built}/${total} packages compiled; linking takes a minute or two)`,
      );
      lastReport = Date.now();
    }
  }, 5_000);
  try {
    await runCommand('go', ['build', '-v', ...flags, ...packages], {
      cwd,
      env: goEnv(),
      onStderrLine: (line) => {
        if (!line || line.startsWith('go: ')) return;
        built += 1;
        const percent = Math.min(99, Math.floor((built / total) * 100));
        if (percent >= lastPercent + 5) {
          lastPercent = percent;
          lastReport = Date.now();
          progress(`${label}: ${percent}% (${built}/${total} packages)`);
        }
      },
    });
  } finally {
    clearInterval(heartbeat);
  }
  progress(`${label}: done`);
}
