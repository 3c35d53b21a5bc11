import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints how long each test file took, slowest first, against a per-project budget. The CI run has 90 minutes
 * including a first Kubernetes build on a new machine, so a file creeping past its budget is reported early
 * (it does not fail the run: timings are for people, assertions are for behaviour).
 */
const BUDGET_MS: Readonly<Record<string, number>> = {
  unit: 10_000,
  wire: 60_000,
  e2e: 300_000,
  'e2e-mosquitto': 300_000,
  'e2e-serial': 420_000,
};

export default class DurationReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    if (testModules.length === 0) return;
    const rows = testModules
      .map((module) => ({
        project: module.project.name,
        file: module.relativeModuleId,
        ms: module.diagnostic().duration,
        state: module.state(),
      }))
      .sort((a, b) => b.ms - a.ms);
    const total = rows.reduce((sum, row) => sum + row.ms, 0);
    const lines = ['', 'Per-file durations (slowest first):'];
    for (const row of rows) {
      const budget = BUDGET_MS[row.project];
      const over = budget !== undefined && row.ms > budget ? `  OVER BUDGET (${budget / 1000} s)` : '';
      lines.push(
        `  ${(row.ms / 1000).toFixed(1).padStart(7)} s  ${row.project.padEnd(10)}  ${row.file}  [${row.state}]${over}`,
      );
    }
    lines.push(`  ${(total / 1000).toFixed(1).padStart(7)} s  total of file durations`, '');
    process.stdout.write(lines.join('\n') + '\n');
  }
}
