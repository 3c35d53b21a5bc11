/**
 * Starts a control plane in this (child) process and reports READY, then idles: the reaper test kills this
 * process with SIGKILL and checks that nothing it started survives.
 */
import { startControlPlane } from '../../core/cluster/control-plane.ts';
import { FAST_PROFILE } from '../../core/cluster/timer-profiles.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: control-plane-child.ts <data-dir>');
const plane = await startControlPlane({ dataDir, profile: FAST_PROFILE });
process.stdout.write(`READY ${plane.kubeconfig}\n`);
setInterval(() => undefined, 60_000);
