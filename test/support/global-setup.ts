import { KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane } from '../../core/cluster/control-plane.ts';
import { binaryPath } from '../../core/cluster/k8s-release.ts';
import { FAST_PROFILE } from '../../core/cluster/timer-profiles.ts';
import { runCommand } from '../../core/cluster/run-command.ts';
import { waitForCrdEstablished } from '../../core/kube/crd-established.ts';
import { fileURLToPath } from 'node:url';

const ROLLOUT_CRD_MANIFEST = fileURLToPath(
  new URL('../../examples/deploy/crds/modulerollouts.rollout.koupleless.io.yaml', import.meta.url),
);
import { startHeartbeatNode, type HeartbeatNode } from './heartbeat-node.ts';
import { SENTINEL_NODE, SENTINEL_TAINT, SENTINEL_ZONE } from './sentinel.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the run's control plane. */
    kubeconfig: string;
    /** kubectl built at the server's version. */
    kubectl: string;
    /** Directory of the control-plane binaries. */
    k8sBinDir: string;
  }
}

/**
 * One control plane per test run, shared by the e2e projects. Each project that needs it runs this setup, so
 * the cluster lives in a process-wide slot with a reference count: the first setup starts it, the last
 * teardown stops it. It runs attached to the vitest process, so even a killed test run leaves nothing behind.
 */
interface SharedCluster {
  users: number;
  ready: Promise<{ plane: ControlPlane; sentinel: HeartbeatNode }>;
}
const slot = globalThis as typeof globalThis & { __kmcCluster?: SharedCluster | undefined };

const log = (message: string) => process.stderr.write(`[control-plane] ${message}\n`);

async function start(): Promise<{ plane: ControlPlane; sentinel: HeartbeatNode }> {
  const plane = await startControlPlane({ profile: FAST_PROFILE, withKubectl: true, onProgress: log });
  log(`ready in ${plane.startMs} ms at ${plane.apiserverUrl} (data: ${plane.dataDir})`);
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfig);
  const sentinel = await startHeartbeatNode(kc, {
    name: SENTINEL_NODE,
    zone: SENTINEL_ZONE,
    taints: [SENTINEL_TAINT],
  });
  // The ModuleRollout CRD, as users install it; established before any test runs kmc.
  const env = { ...process.env, KUBECONFIG: plane.kubeconfig };
  await runCommand(binaryPath('kubectl'), ['apply', '-f', ROLLOUT_CRD_MANIFEST], { env });
  await waitForCrdEstablished(kc, 'modulerollouts.rollout.koupleless.io');
  return { plane, sentinel };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  slot.__kmcCluster ??= { users: 0, ready: start() };
  const shared = slot.__kmcCluster;
  shared.users += 1;
  const { plane } = await shared.ready;
  process.env['KUBECONFIG'] = plane.kubeconfig;
  project.provide('kubeconfig', plane.kubeconfig);
  project.provide('kubectl', binaryPath('kubectl'));
  project.provide('k8sBinDir', plane.binDir);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    slot.__kmcCluster = undefined;
    const { sentinel } = await shared.ready;
    sentinel.stopHeartbeats();
    // KMC_KEEP_CLUSTER=1 keeps etcd data and component logs for a post-mortem of a failed run.
    await plane.stop({ keepData: process.env['KMC_KEEP_CLUSTER'] === '1' });
  };
}
