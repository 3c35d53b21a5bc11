import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processesMatching } from '../support/processes.ts';
import { waitFor } from '../support/wait-for.ts';

const CHILD = fileURLToPath(new URL('../support/control-plane-child.ts', import.meta.url));

/**
 * Node has no parent-death signal, yet a control plane must not outlive the process that started it, however
 * that process dies: a test run killed with SIGKILL must not leave etcd and three API processes behind.
 */
describe('local control plane owned by a process that is killed with SIGKILL', () => {
  let dataDir = '';

  afterAll(async () => {
    for (const leftover of processesMatching(dataDir)) process.kill(leftover.pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no etcd / kube-* process of that control plane alive', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kmc-reaper-'));
    const child = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = await new Promise<boolean>((resolve) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (line.startsWith('READY ')) resolve(true);
      });
      child.once('exit', () => {
        resolve(false);
      });
    });
    expect(ready).toBe(true);

    const names = (processes: ReturnType<typeof processesMatching>) =>
      processes.map(
        (p) =>
          /(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|control-plane-supervisor)/.exec(
            p.command,
          )?.[1],
      );
    // The child's own command line names the data directory too; what matters is what it started.
    const before = processesMatching(dataDir).filter((p) => p.pid !== child.pid);
    expect(names(before).sort()).toEqual(
      [
        'control-plane-supervisor',
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
        'kube-scheduler',
      ].sort(),
    );

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    await waitFor(() => processesMatching(dataDir).length === 0, {
      description: `no process of ${dataDir} left`,
      timeoutMs: 30_000,
    });
  });
});
