import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../core/cluster/run-command.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { startKmcProcess, type KmcProcess } from '../support/kmc-process.ts';
import { uniqueId } from '../support/unique-id.ts';
import { waitFor } from '../support/wait-for.ts';

const MAIN = fileURLToPath(new URL('../../core/cli/main.ts', import.meta.url));
const kmc = (args: string[]) => runCommand(process.execPath, [MAIN, ...args], { allowFailure: true });

describe('kmc command line', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('refuses a bad config file with exit code 2 and a message naming the file and the field', async () => {
    const file = join(tmpdir(), `${uniqueId('bad')}.yaml`);
    await writeFile(
      file,
      'env: dev\nbases:\n  silenceSeconds: 0\nleaderElection:\n  leaseSeconds: 8\n  renewDeadlineSeconds: 9\n',
    );
    for (const command of ['run', 'validate']) {
      const result = await kmc([command, '--config', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toContain('bases.silenceSeconds');
      expect(result.stderr).toContain('leaderElection.renewDeadlineSeconds');
    }
  });

  it('names the plugin and the option when a plugin option is wrong', async () => {
    const file = join(tmpdir(), `${uniqueId('plugin')}.yaml`);
    await writeFile(file, 'plugins:\n  - [biz-deactivate, { failPod: "yes" }]\n');
    const result = await kmc(['validate', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/plugins\[0\] \(plugin "biz-deactivate"\) options: failPod/);
  });

  it('validate prints what would run for a good config', async () => {
    const file = join(tmpdir(), `${uniqueId('good')}.yaml`);
    await writeFile(file, 'env: prod\nplugins:\n  - biz-deactivate\n');
    const result = await kmc(['validate', '--config', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('env: prod (topics koupleless_prod/...)');
    expect(result.stdout).toContain('podStatus: biz-deactivate');
    // The strategy plugins a Deployment's annotations can switch on are applied too, and said so.
    expect(result.stdout).toContain(
      "also applied, off unless a Deployment's annotations switch them on: batches, beta-first",
    );
    expect(result.stdout).toContain('configuration is valid');
  });

  it.each([
    'examples/koupleless.config.yaml',
    'examples/koupleless.config.ts',
    'examples/release-window.config.yaml',
  ])('the example %s is valid', async (file) => {
    const result = await kmc([
      'validate',
      '--config',
      fileURLToPath(new URL(`../../${file}`, import.meta.url)),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('configuration is valid');
  });

  it('run serves /healthz, /readyz and /metrics with installs, bases, queue depth and dropped messages', async () => {
    const harness = await KmcHarness.start({ startKmc: false });
    cleanup.push(() => harness.close());
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    let running: KmcProcess | undefined;
    cleanup.push(async () => {
      await running?.kill('SIGTERM');
    });
    running = await startKmcProcess(harness.kmcConfig({ server: { host: '127.0.0.1', port } }));
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, text: await response.text() };
    };
    await waitFor(async () => (await get('/readyz').catch(() => ({ status: 0 }))).status === 200, {
      description: '/readyz 200',
      timeoutMs: 30_000,
    });
    expect((await get('/healthz')).text).toBe('ok');
    await harness.base();
    const metrics = await waitFor(
      async () => {
        const { text } = await get('/metrics');
        return text.includes('kmc_bases{ready="true"} 1') ? text : undefined;
      },
      { description: 'one ready base in the metrics', timeoutMs: 30_000 },
    );
    for (const name of [
      'kmc_tunnel_messages_total',
      'kmc_module_installs_total',
      'kmc_report_to_status_seconds',
      'workqueue_depth',
      'kmc_tunnel_dropped_messages_total',
      'controller_runtime_reconcile_total',
      'kmc_process_resident_memory_bytes',
    ]) {
      expect(metrics).toContain(name);
    }
    // A clean stop: SIGTERM exits 0.
    expect(await running.kill('SIGTERM')).toBe(0);
    running = undefined;
  });
});
