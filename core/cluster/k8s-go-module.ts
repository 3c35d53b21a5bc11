/**
 * Pure helpers that turn the go.mod of `k8s.io/kubernetes` into the go.mod of a small wrapper module that
 * builds its commands from the Go module proxy. The staging list is derived, not hard-coded, because minor
 * releases add staging modules (1.36 adds two).
 */

export interface KubernetesGoMod {
  /** The `go` directive, copied so the toolchain requirement matches upstream's. */
  readonly goDirective: string;
  /** `godebug` lines, copied so a newer Go keeps upstream's runtime defaults. */
  readonly godebugLines: readonly string[];
  /** Staging modules required at v0.0.0 and replaced by a path in upstream's go.mod. */
  readonly stagingModules: readonly string[];
  /** The etcd server version this release is tested with. */
  readonly etcdVersion: string;
}

export function parseKubernetesGoMod(text: string): KubernetesGoMod {
  const lines = text.split('\n').map((line) => line.trim());
  const goDirective = lines.find((line) => /^go\s+\d/.test(line))?.split(/\s+/)[1];
  if (!goDirective) throw new Error('k8s.io/kubernetes go.mod has no go directive');
  const godebugLines = lines.filter((line) => line.startsWith('godebug'));
  const staging = new Set<string>();
  let etcdVersion: string | undefined;
  for (const line of lines) {
    const [module, version] = line.replace(/^require\s+/, '').split(/\s+/);
    if (!module || !version) continue;
    if (module.startsWith('k8s.io/') && version === 'v0.0.0') staging.add(module);
    if (module === 'go.etcd.io/etcd/server/v3' && etcdVersion === undefined) etcdVersion = version;
  }
  if (staging.size === 0) throw new Error('k8s.io/kubernetes go.mod lists no staging modules');
  if (!etcdVersion) throw new Error('k8s.io/kubernetes go.mod does not pin go.etcd.io/etcd/server/v3');
  return { goDirective, godebugLines, stagingModules: [...staging].sort(), etcdVersion };
}

/** `v1.33.13` → `v0.33.13`: staging modules are published with the same minor and patch. */
export function stagingVersionOf(kubernetesVersion: string): string {
  const match = /^v1\.(\d+\.\d+)$/.exec(kubernetesVersion);
  if (!match?.[1]) throw new Error(`not a Kubernetes release version: ${kubernetesVersion}`);
  return `v0.${match[1]}`;
}

/**
 * Upstream lists two sample modules only in its replace block; they must be replaced here too or `go mod tidy`
 * tries to resolve them at v0.0.0.
 */
const REPLACE_ONLY_MODULES = ['k8s.io/sample-cli-plugin', 'k8s.io/sample-controller'];

/**
 * Go 1.26 toolchains lose linker dead-code elimination with older protobuf releases, which makes the binaries
 * about 20 % larger; this pseudo-version restores it. Harmless for newer Kubernetes releases.
 */
const PROTOBUF_PIN = 'google.golang.org/protobuf v1.36.12-0.20260120151049-f2248ac996af';

export function renderWrapperGoMod(kubernetesVersion: string, upstream: KubernetesGoMod): string {
  const staging = stagingVersionOf(kubernetesVersion);
  const replaced = [...new Set([...upstream.stagingModules, ...REPLACE_ONLY_MODULES])].sort();
  return [
    'module local.invalid/kmc-k8s-binaries',
    '',
    `go ${upstream.goDirective}`,
    '',
    ...(upstream.godebugLines.length > 0 ? [...upstream.godebugLines, ''] : []),
    `require k8s.io/kubernetes ${kubernetesVersion}`,
    '',
    `require ${PROTOBUF_PIN}`,
    '',
    'replace (',
    ...replaced.map((module) => `\t${module} => ${module} ${staging}`),
    ')',
    '',
  ].join('\n');
}

/** A build-tagged file that imports the commands so `go mod tidy` keeps their dependencies. */
export function renderToolsFile(packages: readonly string[]): string {
  return [
    '//go:build tools',
    '',
    'package tools',
    '',
    'import (',
    ...packages.map((pkg) => `\t_ "${pkg}"`),
    ')',
    '',
  ].join('\n');
}

export function renderEtcdGoMod(etcdVersion: string): string {
  return [
    'module local.invalid/kmc-etcd',
    '',
    'go 1.24.0',
    '',
    `require go.etcd.io/etcd/server/v3 ${etcdVersion}`,
    '',
  ].join('\n');
}

/** Version stamps compiled into the binaries; without them `/version` reports v0.0.0-master. */
export function versionLdflags(kubernetesVersion: string, buildDate: string): string {
  const minor = kubernetesVersion.split('.')[1] ?? '';
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${kubernetesVersion}`,
      `-X ${pkg}.gitMajor=1`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=${buildDate}`,
    );
  }
  return flags.join(' ');
}
