import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The one Kubernetes version the local control plane is built at. Latest 1.33 patch: the machines' kubectl
 * dispatcher bundles kubectl up to 1.33, and 1.33 keeps it inside kubectl's ±1 version skew. The etcd version
 * is not pinned here: the build reads it from this release's go.mod, so the two always match.
 */
export const K8S_VERSION = process.env['KMC_K8S_VERSION'] ?? 'v1.33.13';

/** Binaries the control plane needs, plus a kubectl of exactly the server's version for tests and docs. */
export const CONTROL_PLANE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const;
export const KUBECTL_BINARY = 'kubectl';
export type BinaryName = (typeof CONTROL_PLANE_BINARIES)[number] | typeof KUBECTL_BINARY;

/** Root of everything kmc caches on a machine; outside the repository so clones share one build. */
export function kmcCacheDir(): string {
  return (
    process.env['KMC_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'kmc')
  );
}

export function k8sCacheDir(version: string = K8S_VERSION): string {
  return join(kmcCacheDir(), 'k8s', version);
}

export function binDir(version: string = K8S_VERSION): string {
  return join(k8sCacheDir(version), 'bin');
}

export function binaryPath(name: BinaryName, version: string = K8S_VERSION): string {
  return join(binDir(version), name);
}
