import { tmpdir } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserConfig } from '../../config/config-schema.ts';
import type { ReleaseWindowOptions } from '../../examples/plugins/release-window.ts';
import { keepLogsOnFailure } from '../support/failure-logs.ts';
import { startKmcProcess, type KmcProcess } from '../support/kmc-process.ts';
import { RolloutWorld } from '../support/rollout-world.ts';
import { waitFor } from '../support/wait-for.ts';

const PLUGIN_FILE = fileURLToPath(new URL('../../examples/plugins/release-window.ts', import.meta.url));

/**
 * How long after the config is written the window opens: room for `kmc run` to start and batch 1 to complete
 * (about 10 s together with both cores of a 2-core machine busy elsewhere), so the hold is seen before it.
 */
// Long enough for a kmc process to start and batch 1 to finish on a loaded 2-core machine.
const OPENS_IN_MS = 40_000;
/**
 * The rollout engine reads its clock at the start of a reconcile and the plugin reads it again when asked, so a
 * reconcile that began just before the opening can record a batch start a moment before it. One second covers
 * that skew (it is milliseconds unless the machine is very busy).
 */
const CLOCK_SKEW_MS = 1_000;

const utcTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * The example custom plugin (examples/plugins/release-window.ts), selected by path in a kmc config file, as an
 * operator would: the world's first release is installed by an in-process kmc without it; then kmc is restarted
 * as a real `kmc run --config <file>` process whose config lists the plugin by a path relative to the file.
 * Running the real command is the point: it is Node itself (type stripping), not the test runner, that loads the
 * plugin file, through the same resolvePlugins the CLI uses.
 *
 * The config has one daily window in UTC that opens OPENS_IN_MS after it is written and lasts ten minutes, with
 * `firstBatchToo: false`: the first batch (a canary) starts at once, the second waits for the window.
 */
describe('custom plugin by path: release windows gate batches', () => {
  let world: RolloutWorld;
  let kmc: KmcProcess | undefined;

  beforeAll(async () => {
    world = await RolloutWorld.create({
      bases: 4,
      annotations: { 'rollout.koupleless.io/batch-count': '2' },
    });
  });
  afterAll(async () => {
    await kmc?.kill('SIGTERM');
    await world.close();
  });

  it('holds batch 2 (ReleaseWindow) while the window is closed, starts it when it opens, and does not hold inside it', async () => {
    keepLogsOnFailure('custom-plugin', () => kmc?.logs() ?? []);
    // The in-process kmc gives way to `kmc run` with the config file below (same env, bases and namespace).
    await world.harness.stopKmc();

    const opensAt = Math.ceil((Date.now() + OPENS_IN_MS) / 1_000) * 1_000;
    const closesAt = opensAt + 10 * 60_000;
    const options: ReleaseWindowOptions = {
      timeZone: 'UTC',
      firstBatchToo: false,
      windows: [{ from: utcTime(opensAt), to: utcTime(closesAt) }],
    };
    // startKmcProcess writes this config to a YAML file in the temp directory: the path is relative to it.
    // A path, not a package name, wherever the clone lives: "./x" or "../x", never a bare "x".
    const fromTmp = relative(tmpdir(), PLUGIN_FILE);
    const pluginPath = fromTmp.startsWith('..') ? fromTmp : `./${fromTmp}`;
    const config: UserConfig = world.harness.kmcConfig({ plugins: [[pluginPath, options]] });
    kmc = await startKmcProcess(config);
    const running = kmc;
    const starting = await waitFor(
      () => {
        const line = running.logs().find((l) => l['msg'] === 'kmc starting');
        // A timeout shows what the process said (a plugin that failed to load, say).
        if (!line) throw new Error(`kmc output so far: ${running.output().slice(-2_000) || '(none)'}`);
        return line;
      },
      {
        description: 'kmc run starting',
        timeoutMs: Math.max(1_000, opensAt - Date.now()),
      },
    );
    expect(starting['plugins']).toContain('release-window');
    await waitFor(() => running.logs().some((line) => line['msg'] === 'kmc running'), {
      description: 'kmc run running',
      timeoutMs: Math.max(1_000, opensAt - Date.now()),
    });

    const from = Date.now();
    await world.release('0.0.2');
    // Batch 1 (2 of 4) is not gated; batch 2 must be seen holding before the window opens, or setup overran.
    const holding = await world.holding(2, 2, 'ReleaseWindow', Math.max(1_000, opensAt - Date.now()));
    expect(Date.now()).toBeLessThan(opensAt);
    expect(holding.status?.plan).toEqual([2, 4]);
    expect(world.switched('0.0.2')).toBe(2);
    expect(holding.status?.batches?.[0]?.completedAt).toBeDefined();
    expect(holding.status?.batches?.[1]?.startedAt).toBeUndefined();
    expect(holding.status?.hold?.message).toContain(
      `batch 2 starts in the next release window, ${new Date(opensAt).toISOString()}`,
    );
    // The engine looks again when the window opens (recheckAfterMs), not later.
    const recheckAt = Date.parse(holding.status?.hold?.recheckAt ?? '');
    expect(recheckAt).toBeLessThanOrEqual(opensAt);
    expect(recheckAt).toBeGreaterThan(opensAt - OPENS_IN_MS);
    const events = await world.core.listNamespacedEvent({
      namespace: world.namespace,
      fieldSelector: 'reason=RolloutHolding,involvedObject.name=biz1-r2',
    });
    expect(events.items.map((e) => e.message)).toContainEqual(
      expect.stringContaining('batch 2: ReleaseWindow'),
    );

    await world.completed(2);
    const done = await world.rollout(2);
    const batch2 = done?.status?.batches?.[1];
    const startedAt = Date.parse(batch2?.startedAt ?? '');
    const completedAt = Date.parse(batch2?.completedAt ?? '');
    expect(startedAt).toBeGreaterThanOrEqual(opensAt - CLOCK_SKEW_MS);
    // Started by the recheck at the opening, not by something that happened to come by much later.
    expect(startedAt).toBeLessThan(opensAt + 15_000);
    expect(completedAt).toBeGreaterThanOrEqual(startedAt);

    // The bases' own timelines: while the window was closed, no base beyond batch 1 switched to 0.0.2.
    const activations = world.bases
      .map(
        (b) =>
          b.timeline
            .bizChanges()
            .find(
              (c) => c.bizName === 'biz1' && c.bizVersion === '0.0.2' && c.to === 'ACTIVATED' && c.at >= from,
            )?.at,
      )
      .filter((at) => at !== undefined)
      .sort((a, b) => a - b);
    expect(activations).toHaveLength(4);
    expect(activations.filter((at) => at < opensAt - CLOCK_SKEW_MS)).toHaveLength(2);
    expect(await world.expectBatchesKept(2, '0.0.2', from)).toEqual([2, 4]);
    world.expectNoGaps(from);

    // Inside the window the plugin holds nothing: the next release runs through both batches without a hold.
    await world.release('0.0.3');
    await world.completed(3);
    expect(Date.now()).toBeLessThan(closesAt);
    const inside = await world.rollout(3);
    expect(inside?.status?.batches?.map((b) => Boolean(b.startedAt && b.completedAt))).toEqual([true, true]);
    const insideHolds = await world.core.listNamespacedEvent({
      namespace: world.namespace,
      fieldSelector: 'reason=RolloutHolding,involvedObject.name=biz1-r3',
    });
    expect(insideHolds.items.map((e) => e.message)).toEqual([]);
  });
});
