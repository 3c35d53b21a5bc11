import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { runCommand, type CommandResult } from '../../core/cluster/run-command.ts';

/** A client for the run's control plane (see global-setup.ts). */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfig'));
  return kc;
}

/** Runs the real kubectl (built at the server's version) against the run's control plane. */
export async function kubectl(
  args: readonly string[],
  options: { stdin?: string } = {},
): Promise<CommandResult> {
  const env = { ...process.env, KUBECONFIG: inject('kubeconfig') };
  if (options.stdin === undefined) return runCommand(inject('kubectl'), args, { env });
  return runCommand(inject('kubectl'), args, { env, stdin: options.stdin });
}

/** A name no other test of this run uses: nodes are cluster-scoped, so tests isolate by name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
