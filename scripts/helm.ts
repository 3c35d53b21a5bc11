/**
 * Helm, for rendering charts/kmc in tests and docs: built once from the Go module proxy (`go install` of
 * `helm.sh/helm/v3/cmd/helm`, a module without replace directives) into the kmc cache, like the Kubernetes
 * binaries (core/cluster/build-binaries.ts). A `helm` already on PATH is not used: the tests render with a
 * known version.
 *
 *   node scripts/helm.ts build     build it if missing; print its path
 *   node scripts/helm.ts path      print where it is (or would be)
 */
import { access, constants, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDirectoryLock } from '../core/cluster/directory-lock.ts';
import { kmcCacheDir } from '../core/cluster/k8s-release.ts';
import { runCommand } from '../core/cluster/run-command.ts';

/** Helm 3 at its newest patch whose go.mod asks for Go 1.24 (the project's floor; 3.20 needs 1.25). */
export const HELM_VERSION = process.env['KMC_HELM_VERSION'] ?? 'v3.19.5';

export function helmPath(version: string = HELM_VERSION): string {
  return join(kmcCacheDir(), 'helm', version, 'bin', 'helm');
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of a Helm binary at `version`, built into the cache first when missing (10–15 minutes, once). */
export async function ensureHelm(
  options: { version?: string; onProgress?: (message: string) => void } = {},
): Promise<string> {
  const version = options.version ?? HELM_VERSION;
  const progress = options.onProgress ?? (() => undefined);
  const target = helmPath(version);
  if (await isExecutable(target)) return target;
  const root = join(kmcCacheDir(), 'helm', version);
  await mkdir(root, { recursive: true });
  await withDirectoryLock(
    join(root, '.build-lock'),
    async () => {
      if (await isExecutable(target)) return;
      const staging = join(root, 'bin.partial');
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true });
      progress(`building helm ${version} from the Go module proxy (10–15 minutes on 2 cores, once)`);
      const module = 'helm.sh/helm/v3';
      const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-trimpath', GOBIN: staging };
      // Stamped as upstream's Makefile does: its version, and the Kubernetes version templates and lint assume
      // without a cluster (client-go v0.X.Y → 1.X; unstamped, Helm would assume 1.20).
      const download = await runCommand('go', ['mod', 'download', '-json', `${module}@${version}`], {
        cwd: root,
        env,
      });
      const goMod = await readFile((JSON.parse(download.stdout) as { GoMod: string }).GoMod, 'utf8');
      const clientGo = /^\s*k8s\.io\/client-go v0\.(\d+)\./m.exec(goMod)?.[1];
      if (!clientGo) throw new Error(`helm ${version}: no k8s.io/client-go in its go.mod`);
      const ldflags = [
        '-s -w',
        `-X ${module}/internal/version.version=${version}`,
        `-X ${module}/internal/version.gitTreeState=clean`,
        ...['pkg/chartutil', 'pkg/lint/rules'].flatMap((pkg) => [
          `-X ${module}/${pkg}.k8sVersionMajor=1`,
          `-X ${module}/${pkg}.k8sVersionMinor=${clientGo}`,
        ]),
      ].join(' ');
      await runCommand('go', ['install', '-ldflags', ldflags, `${module}/cmd/helm@${version}`], { env });
      await mkdir(join(root, 'bin'), { recursive: true });
      await rename(join(staging, 'helm'), target);
      await rm(staging, { recursive: true, force: true });
      const built = await runCommand(target, ['version', '--short']);
      progress(`built helm ${built.stdout.trim()} in ${target}`);
    },
    (pid) => {
      progress(`waiting for the helm build already running in process ${pid}`);
    },
  );
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2] ?? 'build';
  const log = (message: string) => process.stderr.write(`[helm] ${message}\n`);
  if (command === 'path') {
    process.stdout.write(`${helmPath()}\n`);
  } else if (command === 'build') {
    ensureHelm({ onProgress: log }).then(
      (path) => process.stdout.write(`${path}\n`),
      (error: unknown) => {
        log(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
      },
    );
  } else {
    log(`unknown command "${command}": use build or path`);
    process.exitCode = 2;
  }
}
